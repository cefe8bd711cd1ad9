// The JavaScript examples of the README, verbatim (api.test.mjs checks that they are), so that
// types.test.mjs type-checks them as a TypeScript user's editor would (tsc --checkJs --strict).
// @ts-check
"use strict";

const { Twin, DeviceTwin, TwinError, diff, delta } = require("twindoc");

const twin = new Twin("devA", { now: "2026-11-28T10:00:00Z" });
const outcome = twin.patch("desired", { sendDataInterval: 5000 }, { now: Date.now() });
// { version: 3, sectionVersion: 2, etag: "AAAAAAAAAAI=", notification: { sendDataInterval: 5000, $version: 2 } }
try {
  twin.patch("reported", { "wifi.ip": "10.0.0.2" });
} catch (e) {
  if (!(e instanceof TwinError)) throw e; // what every function throws
  console.log(e.name, e.code, e.status, e.errorCode, e.path); // TwinError InvalidKey 400 400004 /wifi.ip
}
const device = DeviceTwin.fromDeviceView(twin.deviceView());
const { notification } = twin.patch("desired", { fan: 2 }); // null when desired did not change
if (notification) device.applyDesiredPatch(notification); // { status: "applied", version: 3, patch: { fan: 2 } }
console.log(JSON.stringify(twin), twin.delta());
