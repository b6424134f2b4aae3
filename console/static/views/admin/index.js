// Placeholder until the administration views are written (see views/index.js).
export { Pending as default } from "../pending.js";
