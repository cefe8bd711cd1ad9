// Every export of the package used with its declared types, checked by types.test.mjs with
// tsc --strict (never run). The @ts-expect-error lines are what the declarations must refuse.
import {
  Condition, DeviceTwin, Query, Twin, TwinError, applyConfigurations, componentPropertyAck, delta, diff, jsonPatch, merge, query, validate,
  writablePropertyAck,
} from "twindoc";
import type {
  Configuration, ConfigurationApplication, ConfigurationMetrics, ConfiguredFleet, DesiredNotification, DesiredPatchOutcome,
  DeviceView, DigitalTwin, DigitalTwinChangeEvent, DigitalTwinOperation, EventProperties, FullTwinOutcome, JsonObject,
  JsonPatchOperation, LastUpdated, QueryRow, SectionName, TwinChangeEvent, ValidationResult, WriteOptions, WriteOutcome,
} from "twindoc";
import init, { Twin as WebTwin, TwinError as WebTwinError } from "twindoc/web";

const options: WriteOptions = { now: new Date(), ifMatch: "AAAAAAAAAAE=", ifVersion: 1, limits: { base: "none", maxDepth: 5 } };
const twin = new Twin("devA", { moduleId: "m1", now: "2026-01-01T00:00:00Z" });
const outcome: WriteOutcome = twin.patch("desired", { fan: 2 }, options);
const version: number = outcome.version;
const sectionVersion: number | null = outcome.sectionVersion;
const etag: string = outcome.etag;
// @ts-expect-error: the notification is null after a write that does not change desired
const unchecked: DesiredNotification = outcome.notification;
if (outcome.notification) {
  const desiredVersion: number = outcome.notification.$version;
  void desiredVersion;
}
twin.replace("twin", '{"tags": {}}');
const eventOptions: WriteOptions = { now: 0, hubName: "hub1", digitalTwinEvent: true };
const written: WriteOutcome = twin.patch("reported", { temp: 20 }, eventOptions);
const changeEvent: TwinChangeEvent = written.event;
const eventProperties: EventProperties = changeEvent.properties;
const schema: "twinChangeNotification" | "digitalTwinChangeNotification" = eventProperties["iothub-message-schema"];
const opType: "updateTwin" | "replaceTwin" = eventProperties.opType;
const eventBody: JsonObject = changeEvent.body;
// @ts-expect-error: the digital twin event is null unless asked for and the view changed
const uncheckedEvent: DigitalTwinChangeEvent = written.digitalTwinEvent;
const viewChanges: JsonPatchOperation[] = written.digitalTwinEvent?.body ?? [];
const digital: DigitalTwin = twin.digitalTwin();
const dtId: string | undefined = digital.$dtId;
const dtMetadata: JsonObject = digital.$metadata;
const dtOperations: DigitalTwinOperation[] = [{ op: "add", path: "/thermostat1/target", value: 21 }];
const dtOutcome: WriteOutcome = twin.patchDigitalTwin(dtOperations, { now: 1, ifMatch: twin.etag });
twin.patchDigitalTwin('[{"op": "remove", "path": "/target"}]');
// @ts-expect-error: move, copy and test are refused
twin.patchDigitalTwin([{ op: "move", from: "/a", path: "/b" }]);
// @ts-expect-error: hubName is a string
twin.patch("tags", {}, { hubName: 5 });
void [schema, opType, eventBody, uncheckedEvent, viewChanges, dtId, dtMetadata, dtOutcome.digitalTwinEvent, eventProperties.hubName];
for (const section of ["tags", "desired", "reported"] as SectionName[]) {
  const size: number = twin.size(section);
  const updated: LastUpdated | null = twin.lastUpdated(section, "");
  void [size, updated?.time, updated?.version];
}
// @ts-expect-error: not a section
twin.size("twin");
// @ts-expect-error: not a section
twin.patch("properties", {});
// @ts-expect-error: a body is an object or JSON text
twin.patch("desired", 5);
const document: JsonObject = twin.toJSON();
const text: string = twin.toString();
const view: DeviceView = twin.deviceView();
const fromView: number = view.desired.$version + view.reported.$version;
const twinDelta: JsonObject = twin.delta();
const copy: Twin = Twin.fromJSON(text);
copy.free();
// JSON text as UTF-8 bytes (a Uint8Array or a Buffer) is read as its string would be.
const fromBytes: Twin = Twin.fromJSON(new TextEncoder().encode(text));
const bytesOutcome: WriteOutcome = fromBytes.patch("desired", new TextEncoder().encode('{"fan": 1}'));
void bytesOutcome.notification;
fromBytes.free();
void [version, sectionVersion, etag, unchecked, document, fromView, twinDelta, twin.etag.length + twin.version];

const merged: JsonObject = merge({ a: 1 }, '{"b": 2}');
const changes: JsonObject = diff(merged, { a: 1 });
const operations: JsonPatchOperation[] = jsonPatch(merged, { a: 1 });
const ops: ("add" | "remove" | "replace")[] = operations.map((operation) => operation.op);
const toReach: JsonObject = delta({ a: 1 }, { a: 2 });
const report: ValidationResult = validate(text);
const codes: string[] = report.violations.map((violation) => `${violation.code} ${violation.path} ${violation.message}`);
const ack: JsonObject = writablePropertyAck("target", 21.5, 200, 3, "applied");
const componentAck: JsonObject = componentPropertyAck("thermostat1", "target", 20, 202, 4);
void [changes, ops, toReach, report.valid, codes, ack, componentAck];

const device = DeviceTwin.fromDeviceView(view);
const applied: DesiredPatchOutcome = device.applyDesiredPatch(outcome.notification ?? "{}");
if (applied.status === "applied") {
  const patch: JsonObject = applied.patch;
  void patch;
} else if (applied.status === "gap") {
  const expected: number = applied.expected;
  void expected;
}
// @ts-expect-error: only a gap names the version expected
void applied.expected;
const full: FullTwinOutcome = device.applyFullTwin(view);
if (full.status === "resynced") {
  const catchUp: number = full.patch.$version;
  void catchUp;
}
device.report({ rssi: -60 });
const pending: JsonObject | null = device.takeReportedPatch();
device.confirmReported(device.reportedVersion + 1);
void [pending, device.desiredVersion, device.desired(), device.reported()];

const rows: QueryRow[] = query("SELECT * FROM devices", [twin, document, text]);
const parsed = new Query("SELECT deviceId FROM devices WHERE tags.env = 'prod'");
const selected: boolean = parsed.matches(twin);
const ran: QueryRow[] = parsed.run([document]);
const condition = new Condition("tags.env = 'prod'");
const targeted: boolean = condition.matches(text);
// @ts-expect-error: a query's twins are an array
query("SELECT * FROM devices", twin);
void [rows, selected, ran, targeted];

const configuration: Configuration = {
  id: "eco", priority: 2, targetCondition: "tags.env = 'prod'",
  content: { deviceContent: { "properties.desired.mode": "eco" } }, metrics: { queries: { eco: "SELECT * FROM devices" } },
};
const fleet: ConfiguredFleet = applyConfigurations([configuration], [twin, document, text], { now: "2026-12-01T00:00:00Z" });
const metrics: ConfigurationMetrics | undefined = fleet.metrics["eco"];
const failed: (string | null)[] = fleet.failures.map((failure) => `${failure.deviceId} ${failure.error.code}`);
const one: ConfigurationApplication = twin.applyConfigurations(configuration, { limits: "none" });
const status: "applied" | "targeted" | undefined = one.statuses["eco"];
const configuredVersion: number | undefined = one.outcome?.version;
// @ts-expect-error: a configuration has content
const contentless: Configuration = { id: "x", targetCondition: "*" };
// @ts-expect-error: the twins are an array
applyConfigurations(configuration, twin);
void [fleet.twins.length, metrics?.appliedCount, failed, status, configuredVersion, contentless];

try {
  twin.patch("reported", { "wifi.ip": "10.0.0.2" });
} catch (e) {
  if (e instanceof TwinError) {
    const fields: [string, string, number, number, string] = [e.name, e.code, e.status, e.errorCode, e.path];
    void fields;
  }
  // @ts-expect-error: only the engine makes a TwinError
  void new TwinError("message");
}

await init();
const web: WriteOutcome = new WebTwin("devB").patch("tags", { floor: "12" });
const error: unknown = null;
void [web, error instanceof WebTwinError && error.errorCode];
