// Placeholder until this view is written (see views/index.js).
export { Pending as default } from "./pending.js";
