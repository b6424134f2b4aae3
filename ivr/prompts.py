"""The IVR's prompts: names (sound files without extension) and their words.

Asterisk plays them from its sounds directory; asterisk-conf installs
ours under ``hotline/`` (``scripts/make-prompts`` speaks the texts below
with espeak-ng into 8 kHz mono WAV files, committed under
asterisk-conf/sounds/).
"""

WELCOME = "hotline/welcome"
MENU = "hotline/menu"
INVALID = "hotline/invalid"
NO_INPUT = "hotline/no-input"
TO_OPERATOR = "hotline/to-operator"
PLEASE_HOLD = "hotline/please-hold"
SURVEY = "hotline/survey"
THANKS = "hotline/thanks"
CALLBACK_PROMISE = "hotline/callback-promise"
MENU_EN = "hotline/en/menu"

# name -> (espeak-ng voice, text)
TEXTS: dict[str, tuple[str, str]] = {
    WELCOME: ("cmn", "您好，欢迎致电宝鸡市一二三四五政务服务便民热线。"
                     "如遇报警、火警或急救，请挂机后拨打幺幺零、幺幺九或幺二零。"),
    MENU: ("cmn", "求助请按一，投诉请按二，举报请按三，咨询请按四，建议请按五，"
                  "人工服务请按零。For English, press nine."),
    INVALID: ("cmn", "您的输入有误，请重新选择。"),
    NO_INPUT: ("cmn", "没有听到您的选择。"),
    TO_OPERATOR: ("cmn", "正在为您转接人工服务。"),
    PLEASE_HOLD: ("cmn", "正在为您转接话务员，请稍候。通话可能被录音。"),
    SURVEY: ("cmn", "请对本次服务进行评价：满意请按一，基本满意请按二，不满意请按三。"),
    THANKS: ("cmn", "感谢您的来电，再见。"),
    CALLBACK_PROMISE: ("cmn", "很抱歉，目前话务员繁忙，我们会尽快给您回电。"),
    MENU_EN: ("en", "For help, press one. For a complaint, press two. To report a problem, "
                    "press three. For information, press four. For a suggestion, press five. "
                    "For an operator, press zero."),
}
