"""The Settings dialog's layout: a few well-filled pages of titled groups, declared as data.

The schema (:mod:`trayapp.settings_schema`) says what each setting is; this says where it goes.
A key the layout does not name (added later by a feature) still gets a field: on the page whose
``sections`` hold its schema section, in a group named after that section, or else on the
"Other" page, so nothing is ever left out of the dialog. ``channel`` marks a group that takes
the channel actions of :class:`~trayapp.ui.channels_page.ChannelsPage` (secret, "Send test")
when the app adds that page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Group:
    title: str
    keys: tuple[str, ...]
    channel: str = ""  # the ChannelsPage block placed at the end of the group


@dataclass(frozen=True, slots=True)
class Page:
    title: str
    groups: tuple[Group, ...]
    sections: tuple[str, ...]  # schema sections whose unplaced keys land here
    about: bool = False  # the page ends with the version and where the files are


OTHER = "Other"

PAGES: tuple[Page, ...] = (
    Page(
        "General",
        (
            Group(
                "Start and look",
                ("app.start_at_login", "ui.theme", "ui.timeline_range", "tray.accounts", "ui.close_action"),
            ),
            Group("Updates", ("updates.check", "updates.url")),
        ),
        ("General", "Appearance", "Updates"),
        about=True,
    ),
    Page(
        "Usage & alerts",
        (
            Group("Usage", ("poll.endpoint", "poll.interval_minutes", "history.retention_days")),
            Group(
                "Alerts",
                (
                    "alerts.enabled",
                    "alerts.five_hour_thresholds",
                    "alerts.weekly_thresholds",
                    "alerts.predictive",
                    "alerts.fresh_window",
                    "alerts.quiet_hours",
                ),
            ),
            Group("Desktop notifications", ("alerts.desktop", "alerts.desktop_quips"), channel="desktop"),
        ),
        ("Usage", "Alerts", "Achievements"),
    ),
    Page(
        "Notifications",
        (
            Group("Telegram", ("telegram.enabled", "telegram.chat_id"), channel="telegram"),
            Group("Slack", ("slack.enabled",), channel="slack"),
            Group("Sound", ("sound.enabled", "sound.volume"), channel="sound"),
            Group("Quips written by Claude", ("quips.enabled", "quips.model"), channel="quips"),
            Group("All channels", ("channels.max_per_hour",), channel="all"),
        ),
        ("Channels",),
    ),
    Page(
        "Sessions & integrations",
        (
            Group(
                "Claude Code sessions",
                (
                    "sessions.notify_needs_you",
                    "sessions.notify_finished",
                    "sessions.finished_min_seconds",
                    "sessions.notify_failed",
                    "sessions.notify_new_session",
                ),
            ),
            Group("Integrations", ("hooks.receiver", "api.enabled")),
            Group("Status line segments", ("statusline.segments",)),
        ),
        ("Sessions", "Integrations", "Status line"),
    ),
    Page(
        "Tracking",
        (
            Group("Reports", ("tracking.timezone", "tracking.cost_mode")),
            Group("Price overrides (USD per million tokens)", ("tracking.price_overrides",)),
        ),
        ("Tracking",),
    ),
)

# The dialog's own label where the schema's is long for a form (the hint says the rest).
LABELS: dict[str, str] = {
    "alerts.quiet_hours": "Quiet hours",
    "alerts.enabled": "Alert me as my usage crosses these thresholds",
    "ui.close_action": "Closing the dashboard window",
    "telegram.chat_id": "Chat id",
    "sound.volume": "Volume",
    "channels.max_per_hour": "Messages an hour, at most",
}

# The dialog's own hint where the schema's help speaks of raw values (the CLI's wording).
HINTS: dict[str, str] = {
    "statusline.segments": "Tick what Claude Code's status line shows; drag or use the arrows to order it.",
    "tracking.price_overrides": (
        "Prices of a model missing from the price list, or replacing it. The cache prices may stay empty."
    ),
    "alerts.quiet_hours": "Alerts that are not critical wait until the quiet hours end.",
    "ui.close_action": "Only without a system tray (stock GNOME), where the dashboard is a window.",
    "tray.accounts": "With an icon per account, a click opens the dashboard on that account.",
}

# A field that only matters while another is on is greyed out while it is off.
DEPENDS_ON: dict[str, str] = {
    "poll.interval_minutes": "poll.endpoint",
    "alerts.five_hour_thresholds": "alerts.enabled",
    "alerts.weekly_thresholds": "alerts.enabled",
    "alerts.predictive": "alerts.enabled",
    "alerts.fresh_window": "alerts.enabled",
    "alerts.quiet_hours": "alerts.enabled",
    "alerts.desktop_quips": "alerts.desktop",
    "telegram.chat_id": "telegram.enabled",
    "sound.volume": "sound.enabled",
    "quips.model": "quips.enabled",
    "sessions.finished_min_seconds": "sessions.notify_finished",
    "updates.url": "updates.check",
}


def placed_keys() -> set[str]:
    return {key for page in PAGES for group in page.groups for key in group.keys}


def page_for_section(section: str) -> str:
    """The page an unplaced key of ``section`` goes to."""
    for page in PAGES:
        if section in page.sections:
            return page.title
    return OTHER
