#!/usr/bin/env python3
"""Writes the seed inputs of fuzz/seeds/<target>/ (run from anywhere; see fuzz/README.md for the formats)."""
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
FIXTURES = FUZZ.parent / "tests" / "fixtures"
SEP = b"\xff"


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def fixture(name):
    return compact(json.loads((FIXTURES / f"{name}.json").read_text()))


def selector(section, replace=False, limits="azure", precondition="none"):
    """The selector byte of a twin_write segment (see Write::decode)."""
    s = {"tags": 0, "desired": 1, "reported": 2}[section]
    r = 1 if replace else 0
    lim = {"azure": 0, "none": 1, "small": 2}[limits]
    pre = {"none": 0, "if-match": 1, "wrong-if-match": 2, "if-version": 3}[precondition]
    return bytes([s + 3 * r + 6 * lim + 18 * pre])


def writes(*items):
    return b"".join(SEP + selector(*args, **kwargs) + compact(body) for (args, kwargs, body) in items)


def w(section, body, **kwargs):
    return ((section,), kwargs, body)


TWIN_WRITE = {
    "new-desired-patch": b"\x00" + writes(w("desired", {"telemetry": {"interval": 5000, "channels": ["t", "h"]}})),
    "new-sequence": b"\x00"
    + writes(
        w("desired", {"a": {"b": 1, "c": {"d": "x"}}, "list": [1, 2]}),
        w("reported", {"wifi": {"ip": "10.0.0.2"}}),
        w("tags", {"location": {"city": "Chicago", "floor": "12"}}),
        w("desired", {"a": {"b": None, "c": 5}, "p1": {"p2": None}}, precondition="if-match"),
        w("desired", {"cfg": {"a": 1}}, replace=True),
        w("reported", {"wifi": None}, precondition="if-version"),
        w("tags", {}, precondition="wrong-if-match"),
    ),
    "new-refused": b"\x00"
    + writes(
        w("desired", {"a": {"b.c": 1}}),
        w("reported", {"a": [1, None]}),
        w("desired", {"big": "x" * 120}, limits="small"),
        w("desired", {"n": 4503599627370496}),
        w("desired", [1]),
    ),
    "fleet-device": b"\x01"
    + fixture("fleet-device")
    + writes(
        w("desired", {"telemetry": {"batch": {"size": 64}}, "sendDataInterval": None}),
        w("reported", {"firmware": {"status": "done"}}, precondition="if-version"),
    ),
    "pnp-thermostat": b"\x01"
    + fixture("pnp-thermostat")
    + writes(
        w("reported", {"thermostat1": {"__t": "c", "targetTemperature": {"value": 21.5, "ac": 200, "av": 4}}}),
        w("desired", {"thermostat1": {"__t": "c", "targetTemperature": 22}}, limits="none"),
    ),
    "read-partial-twin": b"\x01"
    + compact({"deviceId": "d", "etag": "opaque", "version": 40, "properties": {"desired": {"x": 1}}})
    + writes(w("tags", {"site": "a"}), w("desired", {"x": {"y": True}}, replace=True)),
}

PARSE = {
    "fleet-device": fixture("fleet-device"),
    "pnp-thermostat": fixture("pnp-thermostat"),
    "new-twin": compact(
        {
            "deviceId": "devA",
            "etag": "AAAAAAAAAAE=",
            "version": 2,
            "properties": {
                "desired": {"$metadata": {"$lastUpdated": "2026-11-28T10:00:00.0000000Z", "$lastUpdatedVersion": 1}, "$version": 1},
                "reported": {"$metadata": {"$lastUpdated": "2026-11-28T10:00:00.0000000Z"}, "$version": 1},
            },
        }
    ),
    "numbers": b'{"tags":{"a":[0,-0.0,1e308,4503599627370496,18446744073709551615,-9223372036854775808,1.5e-300]}}',
    "bad-version": b'{"deviceId":"d","version":-1,"properties":{"desired":{"$version":"7"}}}',
    "deep": b"[" * 130 + b"]" * 130,
    "truncated": b'{"deviceId":"d","tags":{"a":',
}

MERGE = {
    "add-and-delete": compact({"a": 1, "b": {"c": 2}}) + SEP + compact({"a": None, "b": {"d": [1, 2]}, "e": "x"}),
    "null-on-absent-parent": compact({}) + SEP + compact({"p1": {"p2": None}, "q": None}),
    "object-over-scalar": compact({"a": 1, "list": [1, {"x": 1}]}) + SEP + compact({"a": {"b": {"c": None, "d": 1}}, "list": {"y": None}}),
    "invalid-body": compact({"a": [1]}) + SEP + compact({"a": [None], "$x": 1}),
}

DIFF = {
    "change-delete-add": compact({"a": 1, "b": {"c": 2, "d": [1, 2]}, "gone": True, "$version": 4})
    + SEP
    + compact({"a": 1, "b": {"c": 3, "d": [2]}, "new": {"x": {}}, "$version": 5}),
    "type-changes": compact({"k": {"a": 1}, "s": "x", "l": [1]}) + SEP + compact({"k": "s", "s": {"a": {"b": 1}}, "l": {}}),
    "nulls": compact({"x509": {"primary": None}, "a": None, "b": 1}) + SEP + compact({"x509": {"primary": None}, "b": None, "c": {"d": None}}),
    "pointer-escapes": compact({"a/b": {"~": 1}, "": 0}) + SEP + compact({"a/b": {"~": 2}, "n/k": "x"}),
    "numbers": compact({"n": 1, "f": 1.5}) + SEP + compact({"n": 1.0, "f": 1.5}),
    "fleet-device": fixture("fleet-device") + SEP + fixture("pnp-thermostat"),
}

REPLICA_OPS = {
    "hub-write": 0,
    "deliver-next": 1,
    "drop": 2,
    "deliver-any": 3,
    "full-twin": 4,
    "report": 5,
    "send": 6,
    "send-lost": 7,
    "answer-lost": 8,
    "late-answer": 9,
}


def steps(*items):
    """Replica segments: (operation, argument, body or None)."""
    out = b""
    for op, arg, body in items:
        out += SEP + bytes([REPLICA_OPS[op] + 10 * arg]) + (b"" if body is None else compact(body))
    return out[1:]


def op(name, arg=0, body=None):
    return (name, arg, body)


REPLICA = {
    "in-order": steps(
        op("hub-write", body={"fan": {"speed": 1, "mode": "eco"}}),
        op("deliver-next"),
        op("hub-write", body={"fan": {"speed": 2, "mode": None}, "list": [1, 2]}),
        op("deliver-next"),
        op("deliver-any", 0),
    ),
    "gap-and-full-twin": steps(
        op("hub-write", body={"a": {"b": 1}}),
        op("hub-write", body={"a": {"b": None, "c": 2}}),
        op("hub-write", body={"x": True}),
        op("drop"),
        op("deliver-next"),
        op("deliver-next"),
        op("full-twin"),
        op("deliver-any", 1),
    ),
    "reorder": steps(
        op("hub-write", body={"a": 1}),
        op("hub-write", body={"b": 2}),
        op("deliver-any", 1),
        op("deliver-any", 0),
        op("deliver-any", 1),
        op("deliver-any", 0),
    ),
    "reported": steps(
        op("report", body={"fw": "1.0", "wifi": {"rssi": -60}}),
        op("send"),
        op("report", body={"wifi": None, "fw": "1.1"}),
        op("send-lost"),
        op("report", body={"fw": "1.0"}),
        op("send"),
        op("late-answer", 3),
        op("send"),
    ),
    "answer-lost": steps(
        op("report", body={"a": {"b": 1}}),
        op("answer-lost"),
        op("report", body={"a": {"c": 2}}),
        op("late-answer"),
        op("report", body={"a": None}),
        op("answer-lost"),
        op("report", body={"z": 1}),
        op("send"),
        op("full-twin"),
    ),
    "mixed": steps(
        op("hub-write", body={"thermostat1": {"__t": "c", "targetTemperature": 21.5}}),
        op("report", body={"thermostat1": {"__t": "c", "targetTemperature": {"value": 21.5, "ac": 200, "av": 2}}}),
        op("send"),
        op("deliver-next"),
        op("hub-write", body={"thermostat1": None}),
        op("answer-lost"),
        op("report", body={"bad key": 1}),
        op("full-twin"),
        op("deliver-next"),
    ),
}

def query(text, *twins):
    """A query seed: the text, then each twin's text, split on SEP."""
    return SEP.join([text.encode()] + list(twins))


FLEET = [
    fixture("fleet-device"),
    fixture("pnp-thermostat"),
    fixture("edge-module"),
    compact({"deviceId": "d2", "tags": {"env": "prod", "floor": 1.0, "nums": [1, 2]},
             "properties": {"reported": {"temp": 20, "fw": None}}}),
]

QUERY = {
    "select-star": query("SELECT * FROM devices WHERE tags.env = 'prod' OR NOT IS_DEFINED(tags)", *FLEET),
    "projection": query("SELECT TOP 3 deviceId, properties.reported.temp AS t, tags.[[floor]] FROM devices.modules "
                        "WHERE properties.reported.temp * 2 % 7 >= -0x1F AND STARTSWITH(deviceId, \"d\")", *FLEET),
    "group-by": query("select tags.env, count() as n, sum(properties.reported.temp), avg(tags.floor), "
                      "min(tags.floor), max(tags.floor) from devices group by tags.env", *FLEET),
    "in-nin": query("tags.env IN ['prod', 1, 2.5e3, null, [true]] AND tags.floor NIN [] OR tags.x NOT IN [undefined]", *FLEET),
    "module-condition": query("FROM devices.modules WHERE properties.desired.$metadata.$lastUpdatedVersion >= 1", *FLEET),
    "errors": query("SELECT * FROM devices WHERE ((((NOT - - 'unterminated", *FLEET),
    "star": query("*", *FLEET),
    # Small inputs, so that the fuzzer spends its time on the query text rather than on twins.
    "small": query("SELECT TOP 2 tags.[[a-b]] AS x, deviceId FROM devices WHERE NOT (tags.n / 2 < 1.5e0 OR "
                   "ENDSWITH(deviceId, '\\u0064')) AND tags.n NIN [-1, 'a', false]",
                   compact({"deviceId": "d", "tags": {"n": 4, "a-b": [1]}}),
                   compact({"deviceId": "e", "moduleId": "m", "tags": {"n": 1.0}})),
    "text-only": query("SELECT AVG(tags.n), SUM(tags.n) AS s, MIN(tags.n) FROM devices WHERE IS_DEFINED(tags.n) "
                       "GROUP BY tags.n, tags.[[group]]"),
}

def configure(configurations, *twins):
    """A configure seed: the configurations' text, then each twin's text, split on SEP."""
    return SEP.join([compact(configurations)] + list(twins))


LAYERS = [
    {"id": "base", "priority": 1, "targetCondition": "*",
     "content": {"deviceContent": {"properties.desired": {"a": 1, "b": {"c": [1, 2]}}}}},
    {"id": "layer", "priority": 1, "createdTimeUtc": "2026-01-01T00:00:00Z", "targetCondition": "tags.env = 'prod'",
     "content": {"deviceContent": {"properties.desired.b.c": 1.0, "properties.desired.gone": None}},
     "metrics": {"queries": {"n": "SELECT COUNT() FROM devices"}}},
    {"id": "mods", "targetCondition": "FROM devices.modules WHERE tags.env = 'prod'",
     "content": {"moduleContent": {"properties.desired.level": "debug"}}},
]
CONFIGURE = {
    "layers": configure(LAYERS, *FLEET),
    "one": configure(LAYERS[0], compact({"deviceId": "d", "properties": {"desired": {"x": 1, "$version": 2}}})),
    "invalid": configure([LAYERS[0], {**LAYERS[1], "id": "base"}], *FLEET),
    "too-large": configure({"id": "big", "targetCondition": "*",
                            "content": {"deviceContent": {"properties.desired.v": "x" * 5000}}}, *FLEET),
}


def dt_writes(twin, *writes):
    """A digital_twin seed: a twin text (empty: a new twin), then each write's selector and body."""
    return SEP.join([twin] + [bytes([selector]) + compact(body) for selector, body in writes])


DT_DESIRED, DT_REPORTED, DT_UPDATE = 0, 1, 2
DIGITAL_TWIN = {
    "components-and-acks": dt_writes(
        b"",
        (DT_DESIRED, {"target": 21, "thermostat1": {"__t": "c", "setpoint": 20}}),
        (DT_REPORTED, {"target": {"value": 21, "ac": 200, "av": 2, "ad": "ok"}, "serial": "x"}),
        (DT_REPORTED, {"thermostat1": {"__t": "c", "temp": 19.5, "setpoint": {"value": 20, "ac": 202, "av": 2}}}),
        (DT_UPDATE, [{"op": "replace", "path": "/thermostat1/setpoint", "value": 22},
                     {"op": "add", "path": "/c2", "value": {"p": {"q": 1}, "$metadata": {}}},
                     {"op": "remove", "path": "/target"}]),
        (DT_UPDATE, [{"op": "move", "from": "/a", "path": "/b"}]),
    ),
    "pnp-fixture": dt_writes(
        fixture("pnp-thermostat"),
        (DT_UPDATE, [{"op": "add", "path": "/thermostat1/targetTemperature", "value": {"a": [1, 2]}},
                     {"op": "remove", "path": "/thermostat1"}]),
        (DT_REPORTED, {"thermostat1": None}),
    ),
}

for target, seeds in [
    ("twin_write", TWIN_WRITE),
    ("parse", PARSE),
    ("merge_vs_json_patch", MERGE),
    ("diff_roundtrip", DIFF),
    ("replica", REPLICA),
    ("query", QUERY),
    ("configure", CONFIGURE),
    ("digital_twin", DIGITAL_TWIN),
]:
    folder = FUZZ / "seeds" / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
