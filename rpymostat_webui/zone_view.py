"""One zone as people read it: the engine's answers turned into plain words.

The engine answers in data (``GET /v1/zones/{z}``, ``/state``, ``/hold``,
``/v1/sensors``) with Celsius values and UTC instants.  The home card, the
Adjust page and the kiosk all need the same sentences from them: "19.2 °C",
"Weekday evening until 22:30", "Heating: 19.2 °C is at or below 20.7 °C",
"22 °C from 18:00", "updated 12 s ago".  Making those here, without Flask,
keeps the pages thin and lets the wording be tested with hand-written
engine answers, including the broken ones (no sensors, no target, an engine
that could not decide the zone): a zone without a trustworthy temperature is
a dash and the engine's reason, never an exception.
"""

import dataclasses
import datetime
import re

from rpymostat_webui.instants import instant
from rpymostat_webui.units import Unit

#: An absolute temperature in an engine reason: "19.2 C", "21 C".
_DEGREES = re.compile(r"(-?\d+(?:\.\d+)?) C\b")
#: The engine's range errors for a setpoint: "99 is greater than the maximum of 35".
_RANGE = re.compile(r"^(-?\d+(?:\.\d+)?) is (greater than the maximum|less than the minimum) of (-?\d+(?:\.\d+)?)$")

#: The tail of a hysteresis clause that the "Heating:"/"Idle:" prefix already says.
_ON_OFF = re.compile(r": (heat|cool) (on|off|stays on|stays off)$")

#: The engine's rule for both setpoints: "25.5 must be at least 1.0 below cool_setpoint 26.0".
_GAP = re.compile(r"^(-?\d+(?:\.\d+)?) must be at least (\d+(?:\.\d+)?) below cool_setpoint (-?\d+(?:\.\d+)?)$")

ACTIVITY_LABELS = {"heat": "Heating", "cool": "Cooling", "idle": "Idle", "warn": "Waiting for the relay unit"}
DURATION_WORDS = {"next": "until the next schedule change", "permanent": "permanently"}


@dataclasses.dataclass(frozen=True)
class SensorFlag:
    """A sensor the engine did not use for the temperature, and why."""

    sensor: str
    problem: str


@dataclasses.dataclass(frozen=True)
class HoldView:
    """The zone's hold: its setpoints (Celsius) and when it ends, in words ("until 22:30")."""

    heat_setpoint: float | None
    cool_setpoint: float | None
    ends: str


@dataclasses.dataclass(frozen=True)
class OverrideView:
    """The override in force: its rule id (to end it), its name, and when it ends in words."""

    id: str
    name: str | None
    ends: str

    @property
    def end_label(self) -> str:
        """The button's words, naming which override it ends: "End “Ski week” now"."""
        return f"End \u201c{self.name}\u201d now" if self.name else "End this override now"


@dataclasses.dataclass(frozen=True)
class ZoneView:
    """Everything a page shows about one zone; texts are final, numbers are Celsius for forms."""

    zone: str
    name: str
    mode: str
    temperature: float | None
    temperature_text: str
    temperature_reason: str | None
    heat_setpoint: float | None
    cool_setpoint: float | None
    target_text: str
    source_text: str
    activity: str
    reason: str
    next_text: str | None
    flags: tuple[SensorFlag, ...]
    decided_at: str | None
    sensors: tuple[str, ...]
    hold: HoldView | None
    setpoints: tuple[str, ...]
    error: str | None = None
    override: OverrideView | None = None

    @property
    def activity_label(self) -> str:
        return ACTIVITY_LABELS[self.activity]

    @property
    def mode_label(self) -> str:
        return f"Mode: {self.mode}"

    @property
    def primary(self) -> str:
        """The setpoint a form changes when it does not say which (heat, or cool for a cooling zone)."""
        return self.setpoints[0]

    def setpoint(self, which: str) -> float | None:
        return self.heat_setpoint if which == "heat" else self.cool_setpoint


def setpoints_of(mode: str) -> tuple[str, ...]:
    """Which setpoints a zone in ``mode`` uses: heat, cool, or both (auto); off keeps heat for a hold."""
    return {"cool": ("cool",), "auto": ("heat", "cool")}.get(mode, ("heat",))


def moment_words(text, tz: datetime.tzinfo, now: datetime.datetime) -> str:
    """A time on the household's clock: "22:30" today, "Sat 5 Dec 08:00" on another day."""
    moment = instant(text)
    if moment is None:
        return "–"
    local, today = moment.astimezone(tz), now.astimezone(tz)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%a %-d %b %H:%M")


def degrees(celsius: float | None, unit: Unit) -> str:
    """ "21.5 °C" / "71 °F"; a dash for none."""
    return "–" if celsius is None else f"{unit.shown(celsius)}\u202f{unit.symbol}"


def plain_degrees(text: str, unit: Unit) -> str:
    """An engine reason with its temperatures in the browser's unit: "19.2 C" -> "19.2 °C" / "66.6 °F".

    Only for reasons about absolute temperatures (decisions and safety);
    a sensor's "jumped -21.0 C" is a difference and keeps its Celsius.
    """
    return _DEGREES.sub(lambda found: degrees(float(found.group(1)), unit), text)


def celsius_words(text: str) -> str:
    """A sensor's reason with the degree sign added, its numbers untouched (they may be differences)."""
    return re.sub(r"(\d) C\b", "\\1 °C", text)


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def setpoint_error(detail: str, unit: Unit) -> str:
    """The engine's range error for a setpoint, in the browser's unit.

    "93.33 is greater than the maximum of 35" sent for 200 °F reads
    "200 °F is above the highest setpoint, 95 °F".
    """
    gap = _GAP.match(detail)
    if gap:
        difference = float(gap.group(2)) * (1 if unit.code == "C" else 9 / 5)
        cool = degrees(float(gap.group(3)), unit)
        return (
            f"The heating target must be at least {difference:.1f}\u202f{unit.symbol} below the cooling target, {cool}"
        )
    found = _RANGE.match(detail)
    if not found:
        return capitalised(detail)
    value, limit = degrees(float(found.group(1)), unit), degrees(float(found.group(3)), unit)
    if found.group(2).startswith("greater"):
        return f"{value} is above the highest setpoint, {limit}"
    return f"{value} is below the lowest setpoint, {limit}"


def target_words(heat, cool, mode: str, unit: Unit) -> str:
    """The target for the zone's mode: "21 °C", "21–26 °C" (auto), "Off"; a dash when the rule sets none."""
    if mode == "off":
        return "Off"
    if mode == "auto":
        if heat is not None and cool is not None:
            return f"{unit.shown(heat)}–{degrees(cool, unit)}"
        return degrees(heat if cool is None else cool, unit)
    return degrees(cool if mode == "cool" else heat, unit)


def zone_input(zone: dict) -> dict:
    """A stored zone as the engine takes it back (a ZoneInput): without the fields the engine adds."""
    return {key: value for key, value in zone.items() if key not in ("id", "changed_at")}


def override_ends(override: dict | None, state: dict, tz, now) -> str:
    """When the override in force ends: its own end, "until the next schedule change", or the target's end."""
    override = override or {}
    if override.get("end"):
        return f"until {moment_words(override['end'], tz, now)}"
    if override.get("until") == "next_schedule":
        return "until the next schedule change"
    end = (state.get("target") or {}).get("end")
    return f"until {moment_words(end, tz, now)}" if end else "at a time the engine did not say"


def hold_ends(hold: dict, state: dict, tz, now) -> str:
    """When a hold ends, in words: "until 22:30", "until Sat 5 Dec 08:00", "permanently"."""
    if hold.get("until") == "permanent":
        return "permanently"
    if hold.get("end"):
        return f"until {moment_words(hold['end'], tz, now)}"
    target = state.get("target") or {}
    if state.get("next") and (target.get("source") or {}).get("type") == "hold":
        return f"until {moment_words(target.get('end'), tz, now)}"
    return "until the next schedule change"


def source_words(state: dict, hold: HoldView | None, tz, now) -> str:
    """Where the target comes from and until when: "Weekday evening until 22:30", "Hold permanently"."""
    target = state.get("target")
    if not target:
        return capitalised(state.get("target_error") or "no target: the schedule could not be computed")
    source = target.get("source") or {}
    kind = source.get("type")
    if kind == "hold":
        return f"Hold {hold.ends}" if hold else "Hold"
    name = "Zone default" if kind == "default" else (source.get("name") or source.get("id") or "A rule")
    if state.get("next"):
        return f"{capitalised(name)} until {moment_words(target.get('end'), tz, now)}"
    return capitalised(name)


def next_words(state: dict, mode: str, unit: Unit, tz, now) -> str | None:
    """The next change: "22 °C from 18:00"; None when none is known."""
    following = state.get("next")
    if not following:
        return None
    target = target_words(following.get("heat_setpoint"), following.get("cool_setpoint"), mode, unit)
    if target == "–":
        target = "No target"
    return f"{target} from {moment_words(following.get('start'), tz, now)}"


def activity_of(state: dict) -> str:
    """What the equipment really does (the relay units' reports), apart from the mode.

    "heat"/"cool" when an output reports on; "warn" when an output should
    be on but its unit has not said so yet; "idle" otherwise.
    """
    outputs = state.get("outputs") or {}
    for name in ("heat", "cool"):
        if (outputs.get(name) or {}).get("on"):
            return name
    if any(output.get("desired") and not output.get("on") for output in outputs.values()):
        return "warn"
    return "idle"


def decided(state: dict) -> dict[str, bool]:
    """The outputs after the safety layer: the plugin's wish with each safety change applied."""
    outputs = dict((state.get("decision") or {}).get("outputs") or {})
    for change in state.get("safety") or ():
        outputs[change.get("output")] = bool(change.get("decided"))
    return outputs


def plugin_reason(reason: str, outputs: dict[str, bool]) -> str:
    """The plugin's reason cut to what matters now.

    The built-in hysteresis explains each output ("heat target 21 C: ...: heat
    on; cool target 26 C: ...: cool off"); while one output runs, its clause
    alone says why, and its ": heat on" tail repeats the "Heating:" prefix.
    Other plugins' reasons pass unchanged unless they share that shape.
    """
    clauses = [clause for clause in reason.split("; ") if clause]
    running = [name for name in ("heat", "cool") if outputs.get(name)]
    if running:
        chosen = [clause for clause in clauses if clause.startswith(f"{running[0]} target ")]
        clauses = chosen or clauses
    trimmed = [_ON_OFF.sub("", clause) for clause in clauses]
    return "; ".join(trimmed) or "no decision yet"


def reason_words(state: dict, unit: Unit) -> str:
    """Why, in a sentence: "Heating: heat target 21 °C: 19.2 °C is at or below 20.7 °C: heat on".

    The prefix is what the engine decided (heating, cooling, idle); the rest
    is its own reason: a safety change when there is one (it overrides the
    plugin), else the plugin's; with no temperature, also why not.
    """
    outputs = decided(state)
    prefix = "Heating" if outputs.get("heat") else "Cooling" if outputs.get("cool") else "Idle"
    safety = [change.get("reason") for change in state.get("safety") or () if change.get("reason")]
    reason = "; ".join(safety) or plugin_reason((state.get("decision") or {}).get("reason") or "", outputs)
    temperature = state.get("temperature") or {}
    if temperature.get("value") is None and temperature.get("reason") and temperature["reason"] not in reason:
        reason = f"{reason} ({temperature['reason']})"
    return f"{prefix}: {plain_degrees(reason, unit)}"


def sensor_name(sensor_id: str, sensors: dict) -> str:
    """A sensor's name for people: its given name, the device's alias, or its id."""
    known = sensors.get(sensor_id) or {}
    return known.get("name") or known.get("alias") or sensor_id


def build(
    zone: dict,
    state: dict | None,
    hold: dict | None,
    sensors: dict,
    unit: Unit,
    tz: datetime.tzinfo,
    now: datetime.datetime,
    error: str | None = None,
    override: dict | None = None,
) -> ZoneView:
    """The view of ``zone`` from its ``state`` (None with ``error`` when the engine could not say).

    ``sensors`` maps sensor ids to ``GET /v1/sensors`` entries (for names);
    ``hold`` is ``GET /v1/zones/{z}/hold`` or None; ``override`` is ``GET
    /v1/overrides/{id}`` of the override in force, or None (then the
    target's own end says when it ends).
    """
    mode = (state or {}).get("mode") or zone.get("mode") or "heat"
    name = zone.get("name") or zone.get("id")
    if state is None:
        return ZoneView(
            zone=zone["id"],
            name=name,
            mode=mode,
            temperature=None,
            temperature_text="–",
            temperature_reason=None,
            heat_setpoint=None,
            cool_setpoint=None,
            target_text="–",
            source_text="",
            activity="idle",
            reason=capitalised(error or "no decision yet"),
            next_text=None,
            flags=(),
            decided_at=None,
            sensors=tuple(zone.get("sensors") or ()),
            hold=None,
            setpoints=setpoints_of(mode),
            error=error,
        )
    temperature = state.get("temperature") or {}
    target = state.get("target") or {}
    held = None
    if hold:
        held = HoldView(hold.get("heat_setpoint"), hold.get("cool_setpoint"), hold_ends(hold, state, tz, now))
    dropped = temperature.get("dropped") or {}
    flags = tuple(
        SensorFlag(sensor_name(sensor, sensors), capitalised(celsius_words(problem)))
        for sensor, problem in sorted(dropped.items())
    )
    value = temperature.get("value")
    heat, cool = target.get("heat_setpoint"), target.get("cool_setpoint")
    source = target.get("source") or {}
    in_force = None
    if source.get("type") == "override" and source.get("id"):
        rule_name = (override or {}).get("name") or source.get("name")
        in_force = OverrideView(source["id"], rule_name, override_ends(override, state, tz, now))
    source_text = source_words(state, held, tz, now)
    if in_force:
        source_text = f"{capitalised(in_force.name or 'Override')} {in_force.ends}"
    return ZoneView(
        zone=zone["id"],
        name=name,
        mode=mode,
        temperature=value,
        temperature_text=degrees(value, unit),
        temperature_reason=None if value is not None else capitalised(temperature.get("reason") or "no temperature"),
        heat_setpoint=heat,
        cool_setpoint=cool,
        target_text=target_words(heat, cool, mode, unit) if target else "–",
        source_text=source_text,
        activity=activity_of(state),
        reason=reason_words(state, unit),
        next_text=next_words(state, mode, unit, tz, now),
        flags=flags,
        decided_at=state.get("decided_at"),
        sensors=tuple(sorted({*(temperature.get("used") or {}), *dropped, *(zone.get("sensors") or {})})),
        hold=held,
        setpoints=setpoints_of(mode),
        override=in_force,
    )


def duration_words(choice: str) -> str:
    """The hold's length as the flash message says it: "until the next schedule change", "for 2 hours"."""
    if choice in DURATION_WORDS:
        return DURATION_WORDS[choice]
    return "for 1 hour" if choice == "1" else f"for {choice} hours"
