"""Asterisk 22 configuration for the hotline: render it, lint it.

Public entry points (what ``hotline asterisk-conf render|check`` call):

* :func:`render` writes the full set of ``.conf`` files for a real
  Asterisk 22 host from the settings and the city's data (service queues,
  active agents), plus a 0600 file of the agents' SIP passwords.
* :func:`check` lints a directory of ``.conf`` files and returns
  :class:`Problem` rows (file, line, message, severity).

The work is done in :mod:`pbx.conf_reader` (parsing, with pyst2),
:mod:`pbx.conf_check` (cross-file references, security, sounds) and
:mod:`pbx.conf_render`.  This module holds what Asterisk 22 accepts in
each file (option names and values) as data, and
:func:`option_problems`, which checks one file against it.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pbx.conf_reader import ConfFile, Section

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.settings import Settings


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check`; ``line`` is None for whole-file findings."""

    file: str
    line: int | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message}"


def render(settings: Settings, session: Session, out_dir: Path, *, agi_host: str | None = None,
           ami_secret: str | None = None, ami_permit: str | None = None) -> list[Path]:
    """Write Asterisk 22's configuration for this city into ``out_dir``; see
    :func:`pbx.conf_render.render`.  Returns the paths written; prints nothing."""
    # Imported here, not at the top: conf_render reads this module's tables.
    from pbx.conf_render import render as _render

    return _render(settings, session, out_dir, agi_host=agi_host, ami_secret=ami_secret,
                   ami_permit=ami_permit)


def check(conf_dir: Path, settings: Settings | None = None,
          queue_names: Iterable[str] | None = None, prompts_dir: Path | None = None,
          callback_patterns: Iterable[str] | None = None) -> list[Problem]:
    """Lint the configuration in ``conf_dir``; see :func:`pbx.conf_check.check`."""
    from pbx.conf_check import check as _check  # late, as in render()

    return _check(conf_dir, settings, queue_names, prompts_dir, callback_patterns)


__all__ = ["Problem", "ami_user_problems", "check", "option_problems", "render"]


# --------------------------------------------------------------------------
# What Asterisk 22 accepts.  Option names as the 22.10 modules read them
# (app_queue.c queue_set_param/queue_set_global_params, manager.c
# __init_manager, the res_pjsip sorcery registrations, logger.c, cdr.c,
# cdr_csv.c, res_musiconhold.c, pbx_config.c).  Matching is case-insensitive
# like the modules' strcasecmp.


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


BOOL_TRUE = _names("yes true y t 1 on")
BOOL_FALSE = _names("no false n f 0 off")

EXTENSIONS_GENERAL = _names(
    "static writeprotect autofallthrough extenpatternmatchnew clearglobalvars "
    "overrideswitch userscontext")

QUEUE_GENERAL = _names(
    "persistentmembers autofill monitor-type shared_lastcall negative_penalty_invalid "
    "log_membername_as_agent force_longest_waiting_caller log_unpause_on_reason_change "
    "log-caller-id-name")
QUEUE_BOOL = _names(
    "ringinuse setinterfacevar setqueuevar setqueueentryvar announce-to-first-user "
    "announce-position-only-up relative-periodic-announce random-periodic-announce autofill "
    "autopausebusy autopauseunavail reportholdtime timeoutrestart log-restricted-caller-id")
QUEUE_INT = _names(
    "timeout announce-frequency min-announce-frequency announce-round-seconds "
    "announce-position-limit periodic-announce-startdelay periodic-announce-frequency retry "
    "wrapuptime penaltymemberslimit autopausedelay maxlen servicelevel memberdelay weight")
QUEUE_SOUNDS = _names(
    "announce periodic-announce queue-youarenext queue-thereare queue-callswaiting "
    "queue-quantity1 queue-quantity2 queue-holdtime queue-minutes queue-minute queue-seconds "
    "queue-thankyou queue-callerannounce queue-reporthold")
QUEUE_OPTIONS = QUEUE_BOOL | QUEUE_INT | QUEUE_SOUNDS | _names(
    "musicclass music musiconhold context monitor-format membergosub announce-holdtime "
    "announce-position strategy autopause joinempty leavewhenempty defaultrule "
    "timeoutpriority member")
QUEUE_ENUMS: dict[str, frozenset[str]] = {
    "strategy": _names("ringall leastrecent fewestcalls random rrmemory roundrobin linear "
                       "wrandom rrordered"),
    "autopause": _names("yes no all"),
    "announce-holdtime": _names("once") | BOOL_TRUE | BOOL_FALSE,
    "announce-position": _names("limit more") | BOOL_TRUE | BOOL_FALSE,
    "timeoutpriority": _names("app conf"),
    "announce-round-seconds": _names("0 5 10 15 20 30"),
}
QUEUE_EMPTY_WORDS = _names(
    "paused penalty inuse ringing invalid wrapup unavailable unknown loose strict"
) | BOOL_TRUE | BOOL_FALSE

MANAGER_GENERAL = _names(
    "enabled webenabled port bindaddr brokeneventsaction allowmultiplelogin displayconnects "
    "timestampevents debug httptimeout authtimeout authlimit channelvars disabledevents "
    "tlsenable sslenable tlscertfile sslcert tlscert tlsprivatekey sslprivatekey tlscipher "
    "sslcipher tlsbindaddr sslbindaddr tlsservercipherorder")
MANAGER_USER = _names(
    "secret deny permit acl read write displayconnects allowmultiplelogin writetimeout setvar")
# Write classes that would let whoever holds the AMI secret run anything on
# the host.  originate is not among them: manager.c refuses an Originate of
# System() (and similar) unless the user also has write = system.
DANGEROUS_WRITE = {
    "system": "Shutdown/Restart, MixMonitor and Originate of System()",
    "command": "any CLI command",
    "config": "reading and rewriting every .conf file",
    "all": "every class, system, command and config included",
}
BACKEND_WRITE = "call,agent,user,originate,reporting"
MANAGER_CLASSES = _names(
    "system call log verbose command agent user config dtmf reporting cdr dialplan originate "
    "agi cc aoc test security message all none")

PJSIP_OPTIONS: dict[str, frozenset[str]] = {
    "endpoint": _names(
        "type 100rel accept_multiple_sdp_answers accountcode acl aggregate_mwi allow "
        "allow_overlap allow_subscribe allow_transfer allow_unauthenticated_options aors "
        "asymmetric_rtp_codec auth bind_rtp_to_media_address bundle call_group callerid "
        "callerid_privacy callerid_tag codec_prefs_incoming_answer codec_prefs_incoming_offer "
        "codec_prefs_outgoing_answer codec_prefs_outgoing_offer connected_line_method "
        "contact_acl contact_deny contact_permit contact_user context cos_audio cos_video deny "
        "device_state_busy_at direct_media direct_media_glare_mitigation direct_media_method "
        "disable_direct_media_on_nat disallow dtls_auto_generate_cert dtls_ca_file dtls_ca_path "
        "dtls_cert_file dtls_cipher dtls_fingerprint dtls_private_key dtls_rekey dtls_setup "
        "dtls_verify dtmf_mode fax_detect fax_detect_timeout follow_early_media_fork "
        "follow_redirect_methods force_avp force_rport from_domain from_user g726_non_standard "
        "geoloc_incoming_call_profile geoloc_outgoing_call_profile ice_support identify_by "
        "ignore_183_without_sdp inband_progress incoming_call_offer_pref incoming_mwi_mailbox "
        "language mailboxes max_audio_streams max_video_streams media_address media_encryption "
        "media_encryption_optimistic media_use_received_transport message_context "
        "moh_passthrough moh_suggest mwi_from_user mwi_subscribe_replaces_unsolicited "
        "named_call_group named_pickup_group notify_early_inuse_ringing one_touch_recording "
        "outbound_auth outbound_proxy outgoing_call_offer_pref overlap_context permit "
        "pickup_group preferred_codec_only record_off_feature record_on_feature redirect_method "
        "refer_blind_progress rewrite_contact rpid_immediate rtcp_mux rtp_engine rtp_ipv6 "
        "rtp_keepalive rtp_port_end rtp_port_start rtp_symmetric rtp_timeout rtp_timeout_hold "
        "sdp_owner sdp_session security_mechanisms security_negotiation send_aoc "
        "send_connected_line send_diversion send_history_info send_pai send_rpid set_var "
        "srtp_tag_32 stir_shaken stir_shaken_profile sub_min_expiry subscribe_context "
        "suppress_moh_on_sendonly suppress_q850_reason_headers t38_bind_udptl_to_media_address "
        "t38_udptl t38_udptl_ec t38_udptl_ipv6 t38_udptl_maxdatagram t38_udptl_nat tenantid "
        "timers timers_min_se timers_sess_expires tone_zone tos_audio tos_video transport "
        "trust_connected_line trust_id_inbound trust_id_outbound use_avpf use_ptime "
        "user_eq_phone voicemail_extension webrtc"),
    "aor": _names(
        "type authenticate_qualify contact default_expiration mailboxes max_contacts "
        "maximum_expiration minimum_expiration outbound_proxy qualify_2xx_only "
        "qualify_frequency qualify_timeout remove_existing remove_unavailable support_path "
        "voicemail_extension"),
    "auth": _names(
        "type auth_type md5_cred nonce_lifetime oauth_clientid oauth_secret password "
        "password_digest realm refresh_token supported_algorithms_uac supported_algorithms_uas "
        "username"),
    "transport": _names(
        "type allow_reload allow_wildcard_certs async_operations bind ca_list_file ca_list_path "
        "cert_file cipher cos domain external_media_address external_signaling_address "
        "external_signaling_port local_net method password priv_key_file protocol "
        "require_client_cert symmetric_transport tcp_keepalive_enable tcp_keepalive_idle_time "
        "tcp_keepalive_interval_time tcp_keepalive_probe_count tos verify_client verify_server "
        "websocket_write_timeout"),
    "identify": _names("type endpoint match match_header match_request_uri srv_lookups"),
    "registration": _names(
        "type auth_rejection_permanent client_uri contact_header_params contact_user endpoint "
        "expiration fatal_retry_interval forbidden_retry_interval line max_random_initial_delay "
        "max_retries outbound_auth outbound_proxy retry_interval security_mechanisms "
        "security_negotiation server_uri support_outbound support_path transport user_agent"),
    "global": _names(
        "type all_codecs_on_empty_reinvite allow_sending_180_after_183 "
        "contact_expiration_check_interval debug default_auth_algorithms_uac "
        "default_auth_algorithms_uas default_from_user default_outbound_endpoint default_realm "
        "default_voicemail_extension disable_multi_domain endpoint_identifier_order "
        "ignore_uri_user_options keep_alive_interval max_forwards max_initial_qualify_time "
        "mwi_disable_initial_unsolicited mwi_tps_queue_high mwi_tps_queue_low norefersub "
        "regcontext send_contact_status_on_update_registration taskprocessor_overload_trigger "
        "unidentified_request_count unidentified_request_period "
        "unidentified_request_prune_interval use_callerid_contact user_agent"),
    "system": _names(
        "type accept_multiple_sdp_answers compact_headers disable_rport disable_tcp_switch "
        "follow_early_media_fork taskpool_auto_increment taskpool_idle_timeout "
        "taskpool_initial_size taskpool_max_size taskpool_minimum_size threadpool_auto_increment "
        "threadpool_idle_timeout threadpool_initial_size threadpool_max_size timer_b timer_t1"),
    "acl": _names("type acl contact_acl contact_deny contact_permit deny permit"),
    "domain_alias": _names("type domain"),
}
# Types other res_pjsip modules define; their options are not checked here.
PJSIP_OTHER_TYPES = _names(
    "contact outbound-publish inbound-publication asterisk-publication resource_list phoneprov")
PJSIP_ENUMS: dict[str, frozenset[str]] = {
    "auth_type": _names("userpass md5 digest google_oauth"),
    "protocol": _names("udp tcp tls ws wss flow"),
    "dtmf_mode": _names("rfc4733 inband info auto auto_info"),
}
PJSIP_BOOL = _names(
    "direct_media rtp_symmetric force_rport rewrite_contact remove_existing "
    "remove_unavailable ice_support use_avpf rtcp_mux webrtc")

LOGGER_GENERAL = _names(
    "dateformat appendhostname display_callids queue_log queue_log_to_file queue_log_name "
    "queue_log_realtime_use_gmt exec_after_rotate rotatestrategy rotatetimestamp "
    "logger_queue_limit custom_levels")
# Built-in levels; modules may register more (security, fax...), so others only warn.
LOG_LEVELS = _names("debug trace notice warning error verbose dtmf *")
LOG_MODULE_LEVELS = _names("security fax")

CDR_SECTIONS: dict[str, frozenset[str]] = {
    "general": _names(
        "enable debug unanswered congestion batch endbeforehexten initiatedseconds "
        "scheduleronly safeshutdown size time channeldefaultenabled ignorestatechanges "
        "ignoredialchanges canceldispositionenabled"),
    "csv": _names("usegmtime accountlogs loguniqueid loguserfield newcdrcolumns"),
}

MOH_GENERAL = _names("cachertclasses preferchannelclass")
MOH_CLASS = _names(
    "mode entry directory application announcement digit random sort loop_last format "
    "kill_escalation_delay kill_method answeredonly")
MOH_ENUMS: dict[str, frozenset[str]] = {
    "mode": _names("files playlist mp3 mp3nb quietmp3 quietmp3nb httpmp3 custom"),
    "sort": _names("random alpha randstart"),
    "kill_method": _names("process process_group"),
}


# --------------------------------------------------------------------------
# Checking one file against the tables above


def option_problems(conf: ConfFile) -> list[Problem]:
    """Options and values in ``conf`` that Asterisk 22 would ignore or misread.

    Which table applies is chosen by the file's name; files we have no
    table for yield nothing.  Inherited options are reported at the line of
    the template that holds them (once, not per inheriting section).
    """
    out: dict[tuple[int, str], Problem] = {}
    file = conf.name

    def error(line: int, message: str) -> None:
        out.setdefault((line, message), Problem(file, line, message, "error"))

    def warning(line: int, message: str) -> None:
        out.setdefault((line, message), Problem(file, line, message, "warning"))

    def unknown(section: Section, allowed: frozenset[str], what: str) -> None:
        for opt in section.options:
            key = opt.name.lower()
            if key in allowed or (what == "manager user" and key.startswith("eventfilter")):
                continue
            close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.75)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            error(opt.line, f"'{opt.name}' is not a valid {what} option in Asterisk 22{hint}")

    def values(section: Section, bools: frozenset[str], ints: frozenset[str],
               enums: dict[str, frozenset[str]]) -> None:
        for opt in section.options:
            key, value = opt.name.lower(), opt.value.strip().lower()
            if key in bools and value not in BOOL_TRUE | BOOL_FALSE:
                error(opt.line, f"{opt.name} = {opt.value}: expected yes or no")
            elif key in ints and not re.fullmatch(r"-?\d+", value):
                error(opt.line, f"{opt.name} = {opt.value}: expected a whole number")
            elif key in enums and value not in enums[key]:
                error(opt.line, f"{opt.name} = {opt.value}: expected one of "
                                f"{', '.join(sorted(enums[key]))}")

    for section in conf.sections:
        kind = section.name.lower()
        if file == "extensions.conf" and kind == "general":
            unknown(section, EXTENSIONS_GENERAL, "extensions.conf [general]")
        elif file == "queues.conf" and kind == "general":
            unknown(section, QUEUE_GENERAL, "queues.conf [general]")
            values(section, frozenset(QUEUE_GENERAL - {"monitor-type",
                                                        "force_longest_waiting_caller"}),
                   frozenset(), {})
        elif file == "queues.conf":
            unknown(section, QUEUE_OPTIONS, "queue")
            values(section, QUEUE_BOOL, QUEUE_INT, QUEUE_ENUMS)
            for opt in section.all("joinempty") + section.all("leavewhenempty"):
                bad = [w for w in opt.value.replace(" ", "").lower().split(",")
                       if w not in QUEUE_EMPTY_WORDS]
                if bad:
                    error(opt.line, f"{opt.name}: unknown condition(s) {', '.join(bad)}")
        elif file == "manager.conf" and kind == "general":
            unknown(section, MANAGER_GENERAL, "manager.conf [general]")
            values(section, frozenset({"enabled", "webenabled", "displayconnects",
                                       "allowmultiplelogin", "timestampevents"}),
                   frozenset({"port", "authtimeout", "authlimit", "httptimeout"}), {})
        elif file == "manager.conf" and not section.template:
            unknown(section, MANAGER_USER, "manager user")
            values(section, frozenset({"displayconnects", "allowmultiplelogin"}),
                   frozenset({"writetimeout"}), {})
            for opt in section.all("read") + section.all("write"):
                for word in opt.value.replace(" ", "").lower().split(","):
                    if word and word not in MANAGER_CLASSES:
                        error(opt.line, f"{opt.name}: '{word}' is not an AMI class")
        elif file == "pjsip.conf" and not section.template:
            kind = (section.get("type") or "").lower()
            if not kind:
                error(section.line, f"[{section.name}] has no type = ...; res_pjsip "
                                    "cannot load it")
            elif kind in PJSIP_OPTIONS:
                unknown(section, PJSIP_OPTIONS[kind], f"pjsip {kind}")
                values(section, PJSIP_BOOL, frozenset({"max_contacts", "qualify_frequency"}),
                       PJSIP_ENUMS)
            elif kind not in PJSIP_OTHER_TYPES:
                error(section.line, f"[{section.name}]: unknown type '{kind}'")
        elif file == "logger.conf" and kind == "general":
            unknown(section, LOGGER_GENERAL, "logger.conf [general]")
            values(section, frozenset({"queue_log", "queue_log_to_file", "appendhostname",
                                       "display_callids", "queue_log_realtime_use_gmt"}),
                   frozenset({"logger_queue_limit"}),
                   {"rotatestrategy": _names("timestamp rotate sequential none")})
        elif file == "logger.conf" and kind == "logfiles":
            custom = _names((section.get("custom_levels") or "").replace(",", " ").lower())
            for opt in section.options:
                levels = re.sub(r"^\s*\[[^]]*\]", "", opt.value).lower()
                for level in (w.strip() for w in levels.split(",")):
                    if level and level not in LOG_LEVELS | LOG_MODULE_LEVELS | custom \
                            and not re.fullmatch(r"verbose\(\d+\)", level):
                        warning(opt.line, f"{opt.name}: unknown log level '{level}'")
        elif file == "logger.conf":
            warning(section.line, f"[{section.name}]: logger.conf reads only [general] and "
                                  "[logfiles]")
        elif file == "cdr.conf" and kind in CDR_SECTIONS:
            unknown(section, CDR_SECTIONS[kind], f"cdr.conf [{kind}]")
            values(section, CDR_SECTIONS[kind] - {"size", "time"}, _names("size time"), {})
        elif file == "cdr.conf":
            warning(section.line, f"[{section.name}]: not read by cdr.c or cdr_csv")
        elif file == "musiconhold.conf" and kind == "general":
            unknown(section, MOH_GENERAL, "musiconhold.conf [general]")
        elif file == "musiconhold.conf" and not section.template:
            unknown(section, MOH_CLASS, "music on hold class")
            values(section, _names("random loop_last answeredonly"), frozenset(), MOH_ENUMS)
    return sorted(out.values(), key=lambda p: (p.line or 0, p.message))


# --------------------------------------------------------------------------
# The AMI user: least privilege

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# An address no deployment would permit: if the ACL lets it in, it lets anyone in.
OUTSIDE = ipaddress.ip_address("203.0.113.77")


def acl_allows(rules: list[tuple[bool, IPNetwork]], address: IPAddress) -> bool:
    """Asterisk's ast_apply_ha: start allowed; the last matching rule decides."""
    allowed = True
    for allow, network in rules:
        if address.version == network.version and address in network:
            allowed = allow
    return allowed


AMI_SECRET_MIN = 16
_GUESSED = ("password", "secret", "admin", "amp111", "asterisk", "manager", "hotline", "12345",
            "change-me", "changeme")


def weak_secret(secret: str) -> str | None:
    """Why an AMI secret is too easy to guess (None: strong enough).  AMI
    answers every login attempt, so a short or well-known secret falls."""
    if len(secret) < AMI_SECRET_MIN:
        return f"shorter than {AMI_SECRET_MIN} characters"
    if len(set(secret)) < 8:
        return "fewer than 8 different characters"
    rest = secret.lower()
    for word in _GUESSED:
        rest = rest.replace(word, "")
    if len(rest.strip("-_. 0123456789")) < 8:
        return "mostly well-known words and digits"
    return None


def ami_user_problems(file: str, user: Section, backend: IPAddress | None) -> list[Problem]:
    """What is wrong with one manager.conf user for the backend's use.

    The backend needs ``read`` with system (FullyBooted, Shutdown), call and
    agent; ``write`` without system, command, config (or all); and a
    permit/deny list that keeps every address but ``backend`` out.
    """
    out: list[Problem] = []
    name, line = user.name, user.line

    def add(at: int | None, message: str, severity: Literal["error", "warning"] = "error") -> None:
        out.append(Problem(file, at, message, severity))

    secret = user.option("secret")
    if secret is None or not secret.value:
        add(line, f"[{name}] has no secret")
    elif secret.value.startswith("change-me"):
        add(secret.line, f"[{name}] secret is the placeholder; `hotline asterisk-conf render` "
                         "writes a real one", "warning")
    elif (weak := weak_secret(secret.value)) is not None:
        add(secret.line, f"[{name}] secret is weak ({weak}): `hotline asterisk-conf render` "
                         "refuses it", "warning")
    read_opt, write_opt = user.option("read"), user.option("write")
    read_line = read_opt.line if read_opt else line
    write_line = write_opt.line if write_opt else line
    read = {w.strip().lower() for w in (read_opt.value if read_opt else "").split(",")}
    write = {w.strip().lower() for w in (write_opt.value if write_opt else "").split(",")}
    if not read & {"system", "all"}:
        add(read_line, f"[{name}] read lacks 'system': the backend waits for FullyBooted")
    for needed in ("call", "agent"):
        if not read & {needed, "all"}:
            add(read_line, f"[{name}] read lacks '{needed}': queue and call events are missed",
                "warning")
    for cls, power in DANGEROUS_WRITE.items():
        if cls in write:
            add(write_line, f"[{name}] write includes '{cls}' ({power}); the backend needs "
                            f"only {BACKEND_WRITE}")
    if "agi" in write:
        add(write_line, f"[{name}] write includes 'agi': AGI actions can run any application",
            "warning")

    rules: list[tuple[bool, IPNetwork]] = []
    for opt in user.options:
        key = opt.name.lower()
        if key == "acl":
            add(opt.line, f"acl = {opt.value}: a named ACL (acl.conf) is not evaluated by this "
                          "check", "warning")
            return out
        for item in opt.value.split(",") if key in ("permit", "deny") else ():
            item = item.strip()
            try:  # "!" negates a rule, as in Asterisk
                network = ipaddress.ip_network(item.lstrip("!"), strict=False)
            except ValueError:
                add(opt.line, f"{key} = {item}: not an address/mask")
                continue
            rules.append(((key == "permit") != item.startswith("!"), network))
    if not rules:
        add(line, f"[{name}] has no permit/deny: any address that learns the secret may log in")
    elif acl_allows(rules, OUTSIDE):
        add(line, f"[{name}] lets any address log in: put 'deny = 0.0.0.0/0.0.0.0' before "
                  "the permit lines")
    elif not any(acl_allows(rules, net.network_address) for allow, net in rules if allow):
        add(line, f"[{name}] denies every address, the backend's included (the last matching "
                  "permit/deny wins)")
    elif backend is not None and not acl_allows(rules, backend):
        add(line, f"[{name}] does not permit the backend's address {backend}")
    return out
