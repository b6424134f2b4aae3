"""Names of the IVR's prompts (sound files, without extension).

Asterisk plays them from its sounds directory; asterisk-conf installs our
recordings under ``hotline/``.
"""

WELCOME = "hotline/welcome"          # 您好，这里是12345…；报警请拨110，火警119，急救120
MENU = "hotline/menu"                # 求助请按1，投诉请按2，举报请按3，咨询请按4，建议请按5，人工服务请按0
INVALID = "hotline/invalid"          # 输入有误，请重新选择
NO_INPUT = "hotline/no-input"        # 没有听到您的选择
TO_OPERATOR = "hotline/to-operator"  # 正在为您转接人工服务
PLEASE_HOLD = "hotline/please-hold"  # 正在为您转接，请稍候
SURVEY = "hotline/survey"            # 满意请按1，基本满意请按2，不满意请按3
THANKS = "hotline/thanks"            # 感谢您的来电，再见
CALLBACK_PROMISE = "hotline/callback-promise"  # 坐席繁忙，我们将尽快回电
