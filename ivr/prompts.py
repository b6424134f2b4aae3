"""The IVR's prompts: names (sound files without extension) and their words.

Asterisk plays them from its sounds directory; asterisk-conf installs
ours under ``hotline/``, and Asterisk's queue announcements in Mandarin
under ``zh/`` (``scripts/make-prompts`` speaks the texts below
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
BLOCKED = "hotline/blocked"
LEGACY = "hotline/legacy"
OPEN_ORDER = "hotline/open-order"
STATUS_DRAFT = "hotline/status-draft"
STATUS_DISPATCHED = "hotline/status-dispatched"
ADD_OR_NEW = "hotline/add-or-new"
DESCRIBE = "hotline/describe"
CALLBACK_OFFER = "hotline/callback-offer"
CALLBACK_CONFIRMED = "hotline/callback-confirmed"
DIGITS = [f"hotline/digits/{n}" for n in range(11)]  # 0..9 and 10 (十)
CHINESE_DIGITS = "零一二三四五六七八九十"

# Every prompt the IVR plays over FastAGI (a city's own recordings must
# cover them all: `hotline asterisk-conf check` with HOTLINE_PROMPTS_DIR).
PLAYED = (WELCOME, MENU, MENU_EN, INVALID, TO_OPERATOR, LEGACY, BLOCKED, OPEN_ORDER,
          STATUS_DRAFT, STATUS_DISPATCHED, ADD_OR_NEW, DESCRIBE, CALLBACK_OFFER,
          CALLBACK_CONFIRMED, CALLBACK_PROMISE, SURVEY, THANKS, *DIGITS)

# Asterisk's own queue announcements (app_queue's position, hold time and
# periodic announcements, while the caller waits) in Mandarin: the stock
# sound names under the language directory zh/, which Asterisk uses for
# channels with CHANNEL(language)=zh (set in extensions.conf).  Numbers are
# said by Asterisk's Chinese number syntax from zh/digits/: 0-9, the tens,
# hundred, thousand, wan (万) and yi (亿).
QUEUE_LANGUAGE = "zh"
QUEUE_SOUNDS: dict[str, str] = {
    "queue-youarenext": "您是下一位，话务员将尽快为您服务。",
    "queue-thereare": "您现在排在第",
    "queue-callswaiting": "位。",
    "queue-quantity1": "目前排队等候的来电超过",
    "queue-quantity2": "位。",
    "queue-holdtime": "预计还需等待约",
    "queue-minute": "分钟。",
    "queue-minutes": "分钟。",
    "queue-seconds": "秒。",
    "queue-thankyou": "感谢您的耐心等待。",
    # The queue's "please hold" (periodic-announce, first 10 s after joining).
    "queue-periodic-announce": "话务员正忙，请不要挂机。紧急情况请拨幺幺零、幺幺九、幺二零。",
}
QUEUE_DIGITS: dict[str, str] = {
    **{f"digits/{n}": CHINESE_DIGITS[n] for n in range(10)},
    **{f"digits/{n * 10}": ("" if n == 1 else CHINESE_DIGITS[n]) + "十" for n in range(1, 10)},
    "digits/hundred": "百", "digits/thousand": "千", "digits/wan": "万", "digits/yi": "亿",
}


def number_prompts(n: int) -> list[str]:
    """The prompts that say ``n`` (0-99, capped) in Mandarin: 12 -> 十, 二."""
    n = max(0, min(n, 99))
    if n <= 10:
        return [DIGITS[n]]
    tens, units = divmod(n, 10)
    words = ([] if tens == 1 else [DIGITS[tens]]) + [DIGITS[10]]
    return words + ([DIGITS[units]] if units else [])

# name -> (espeak-ng voice, text).  Short on purpose: every second of a
# prompt is a second before the queue (see asterisk-conf/README.md for the
# texts a city's voice artist records instead).
TEXTS: dict[str, tuple[str, str]] = {
    # The greeting takes the menu's keys: a caller who knows their key
    # presses it here.  The recording notice is said once, here.
    WELCOME: ("cmn", "您好，宝鸡一二三四五热线，通话将被录音。"
                     "紧急情况请拨幺幺零、幺幺九、幺二零。"),
    MENU: ("cmn", "求助按一，投诉按二，举报按三，咨询按四，建议按五，人工按零。"
                  "For English, press nine."),
    INVALID: ("cmn", "输入有误。"),
    # Not played since the first-minute rework (no input goes to an
    # operator); kept for the previous release during an upgrade.
    NO_INPUT: ("cmn", "没有听到您的选择。"),
    TO_OPERATOR: ("cmn", "为您转接人工服务。"),
    # "Please hold" is the queue's own announcement now (queues.conf
    # periodic-announce); this file stays for the previous release.
    PLEASE_HOLD: ("cmn", "正在为您转接话务员，请稍候。"),
    SURVEY: ("cmn", "请对本次服务进行评价：满意请按一，基本满意请按二，不满意请按三。"),
    THANKS: ("cmn", "感谢您的来电，再见。"),
    CALLBACK_PROMISE: ("cmn", "很抱歉，目前话务员繁忙，我们会尽快给您回电。"),
    BLOCKED: ("cmn", "很抱歉，您的号码暂时无法接入本热线。"
                     "如有紧急情况，请拨打幺幺零、幺幺九或幺二零。再见。"),
    # A legacy department line's greeting (no menu follows).
    LEGACY: ("cmn", "您拨打的热线已并入一二三四五热线，通话将被录音。"),
    OPEN_ORDER: ("cmn", "您有一件工单，尾号"),
    STATUS_DRAFT: ("cmn", "正在受理。"),
    STATUS_DISPATCHED: ("cmn", "正在办理。"),
    ADD_OR_NEW: ("cmn", "补充该工单请按一，反映新问题请按二。"),
    # Names its skip key: # before the tone skips, # after it ends.
    DESCRIBE: ("cmn", "可在提示音后先说明诉求，说完或跳过都请按井号键。"),
    CALLBACK_OFFER: ("cmn", "当前等候较长。挂机等回电请按一，继续等待请按二。"),
    CALLBACK_CONFIRMED: ("cmn", "已登记回电，我们会按排队顺序给您回电。再见。"),
    **{DIGITS[n]: ("cmn", CHINESE_DIGITS[n]) for n in range(11)},
    **{f"{QUEUE_LANGUAGE}/{name}": ("cmn", text)
       for name, text in {**QUEUE_SOUNDS, **QUEUE_DIGITS}.items()},
    MENU_EN: ("en", "For help, press one. Complaint, two. Report, three. Information, four. "
                    "Suggestion, five. Operator, zero."),
}
