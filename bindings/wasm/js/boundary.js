// The package's boundary in JavaScript, around wasm-bindgen's glue: what can be done more cheaply
// on this side of it, and nothing the engine decides.
//
// - A JSON document given as a JavaScript value crosses as one string, written here by the rules
//   of S10 of docs/semantics.md (those of the engine's walker, src/convert.rs). Whatever the
//   writer cannot vouch for (NaN, Infinity, an integral number at or beyond 2^53, a BigInt, a
//   function, a symbol, an object that is not plain, a lone surrogate, a cycle or a value nested
//   deeper than the walker allows) sends the value itself on, and the walker converts it or names
//   the error and its path. `undefined` members are left out by both; `undefined` array elements
//   are null in both.
// - A write's options are read here, each member once, and handed to the engine as they are
//   (`Twin.__write`); options of a kind it does not pass on go to the glue's own method, whose
//   reading of them names the error.
// - A write's outcome crosses as text: its numbers and etag, then the engine's JSON text of the
//   rest, parsed when a member built on demand (the notification, the events) is first read; a
//   section patch whose body's text is kept here prints neither its notification nor its change
//   event until they are read.
//
// scripts/build.mjs copies it into pkg-web/ as it is, and into pkg/ as CommonJS.

/** Integral numbers at or beyond 2^53 are no longer exact: the walker refuses them. */
const EXACT_LIMIT = 2 ** 53;
/** As deep as the walker lets a value nest (its MAX_JS_DEPTH); deeper values are left to it. */
const MAX_DEPTH = 127;
/**
 * The engine refuses text over 128 MiB of UTF-8 unread, but not a value: past this many UTF-16
 * units (at most 3 bytes each) a value is left to the walker.
 */
const MAX_TEXT_UNITS = Math.floor((128 * 1024 * 1024) / 3);
const FALLBACK = Symbol("fallback");
/** Where a twin handle keeps its ids for its change events, read once. */
const IDS = Symbol("eventIds");
/** wasm-bindgen's glue, set by `install`. */
let glue;
/** What JSON.stringify escapes in a string (surrogates: the lone ones; paired ones go that way too). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string or key as JSON.stringify writes it (the common case without a call to it). */
function quote(text) {
  return ESCAPED.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * The JSON text of `value`, read as the walker reads it (`Object.keys`, each member read once,
 * array elements by index, `toJSON` never called), each string, key and number written as
 * `JSON.stringify` writes it; `throw FALLBACK` for anything the walker refuses or must name.
 */
function write(value, depth) {
  switch (typeof value) {
    case "string":
      return quote(value);
    case "boolean":
      return value ? "true" : "false";
    case "number": {
      // NaN, Infinity, and integer literals (below 1e21) at or beyond 2^53 (every float so large
      // is integral).
      const magnitude = Math.abs(value);
      if (!Number.isFinite(value) || (magnitude >= EXACT_LIMIT && magnitude < 1e21)) throw FALLBACK;
      return String(value);
    }
    case "object": {
      if (value === null) return "null";
      if (depth >= MAX_DEPTH) throw FALLBACK;
      if (Array.isArray(value)) {
        let out = "[";
        for (let index = 0; index < value.length; index++) {
          const item = value[index];
          if (index > 0) out += ",";
          out += item === undefined ? "null" : write(item, depth + 1);
        }
        return out + "]";
      }
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) throw FALLBACK;
      let out = "{";
      const keys = Object.keys(value);
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index];
        const member = value[key];
        if (member === undefined) continue;
        if (out.length > 1) out += ",";
        out += quote(key) + ":" + write(member, depth + 1);
      }
      return out + "}";
    }
    default:
      throw FALLBACK;
  }
}

/**
 * Long text crosses as its UTF-8 bytes, encoded here (wasm-bindgen's glue copies a string into
 * WebAssembly memory a character at a time until the first non-ASCII one). Text holding a lone
 * surrogate, or where `isWellFormed` is missing (before Node 20), crosses as it is, and the
 * engine refuses it or reads it.
 */
const LONG_TEXT = 4096;
const encoder = new TextEncoder();
function bytes(text) {
  return text.length >= LONG_TEXT && text.isWellFormed?.() === true ? encoder.encode(text) : text;
}

/**
 * A document argument: JSON text (long text as UTF-8 bytes) when it is text, or an object or
 * array `write` vouches for; else the value, for the engine's walker.
 */
function lean(value) {
  if (typeof value === "string") return bytes(value);
  const text = textOf(value);
  return text === undefined ? value : bytes(text);
}

/**
 * The JSON text of a document argument that is an object or array `write` vouches for, or a
 * string that is well-formed Unicode; else `undefined` (bytes, and values for the walker).
 */
function textOf(value) {
  if (typeof value === "string") return value.isWellFormed?.() === true ? value : undefined;
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return undefined;
  let text;
  try {
    text = write(value, 0);
  } catch {
    // FALLBACK, or a member that throws when read: the walker reads it again and says which.
    return undefined;
  }
  // A lone surrogate comes out as `\udXXX` (the only escapes JSON.stringify writes as `\ud`).
  if (text.length > MAX_TEXT_UNITS || text.includes("\\ud")) return undefined;
  return text;
}

/** Replaces member `name` of `target` (a value or a getter) by a data member holding `value`. */
function settle(target, name, value) {
  Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

/**
 * A write's outcome, from what the engine returns: `<version> <sectionVersion|null> <n> ` then the
 * etag (n UTF-16 units) and the JSON text of the outcome's other members. The `WriteOutcome` of
 * the types: a plain object, its numbers and etag read at once, its other members getters until
 * first read (the JSON text parsed then).
 *
 * A section patch whose body's text the entry point has (`later`: given as a string, or written
 * from a value) leaves its notification and change event out of the text: the engine makes each
 * when first read, from that text (the event with the write's time and hub name and the ids of
 * the twin that made it, read once per handle: `__eventIds`), so that an outcome nobody reads
 * prints nothing.
 */
function outcome(answer, later) {
  const first = answer.indexOf(" ");
  const second = answer.indexOf(" ", first + 1);
  const third = answer.indexOf(" ", second + 1);
  const etagEnd = third + 1 + Number(answer.slice(second + 1, third));
  const sectionText = answer.slice(first + 1, second);
  const version = Number(answer.slice(0, first));
  const sectionVersion = sectionText === "null" ? null : Number(sectionText);
  let whole;
  const built = () => (whole ??= etagEnd < answer.length ? JSON.parse(answer.slice(etagEnd)) : {});
  return {
    version,
    sectionVersion,
    etag: answer.slice(third + 1, etagEnd),
    get notification() {
      const written = built();
      const notification = "notification" in written || later === undefined
        ? written.notification
        : JSON.parse(glue.__patchNotification(later.section, later.body, sectionVersion));
      return settle(this, "notification", notification);
    },
    get event() {
      const written = built();
      const event = "event" in written || later === undefined
        ? written.event
        : JSON.parse(glue.__patchEvent(...later.ids, later.section, later.body, version, sectionVersion, later.options));
      return settle(this, "event", event);
    },
    get digitalTwinEvent() {
      return settle(this, "digitalTwinEvent", built().digitalTwinEvent ?? null);
    },
  };
}

/**
 * `Twin.prototype.patch` or `replace` (`replace` true): the body's text written here (as `lean`
 * does) and kept, the options' members read here and handed to the engine (`__write`) as they are; options it would have to
 * name an error in (a member of the wrong type, one that throws when read, options that are not
 * an object) go to the glue's own method, which reads them itself.
 */
function twinWrite(name, replace) {
  const own = glue.Twin.prototype[name];
  return {
    [name](section, body, options) {
      // The body's text, kept for its notification and change event (`undefined`: the body
      // crosses as it is, bytes or a value for the walker); long text crosses as UTF-8 bytes.
      const text = textOf(body);
      // What crosses: short text as a string; else bytes, or the value for the walker (a string
      // that is not well-formed Unicode too, which the engine refuses).
      if (text !== undefined) body = text.length >= LONG_TEXT ? encoder.encode(text) : text;
      let now, limits, ifMatch, ifVersion, hubName, digitalTwinEvent;
      if (options !== undefined && options !== null) {
        if (typeof options !== "object") return outcome(own.call(this, section, body, options));
        try {
          ({ now, limits, ifMatch, ifVersion, hubName, digitalTwinEvent } = options);
        } catch {
          return outcome(own.call(this, section, body, options));
        }
      }
      let millis;
      let nowText;
      if (now === undefined || now === null) millis = Date.now();
      else if (typeof now === "number") millis = now;
      else if (typeof now === "string") nowText = now;
      else if (now instanceof Date) millis = now.getTime();
      else return outcome(own.call(this, section, body, options));
      if (
        !(ifMatch == null || typeof ifMatch === "string") ||
        !(ifVersion == null || typeof ifVersion === "number") ||
        !(hubName == null || typeof hubName === "string") ||
        !(digitalTwinEvent == null || typeof digitalTwinEvent === "boolean")
      ) {
        return outcome(own.call(this, section, body, options));
      }
      const later = !replace && section !== "twin" && text !== undefined;
      const answer = this.__write(
        section,
        body === text ? text : undefined,
        body === text ? undefined : body,
        later,
        replace,
        millis,
        nowText,
        limits ?? undefined,
        ifMatch ?? undefined,
        ifVersion ?? undefined,
        hubName ?? undefined,
        digitalTwinEvent === true,
      );
      if (!later) return outcome(answer);
      // The twin's ids are read once per handle, so that an event can be built after `free()`.
      const ids = (this[IDS] ??= this.__eventIds());
      return outcome(answer, { section, body: text, ids, options: { now: millis ?? nowText, hubName } });
    },
  }[name];
}

/** Wraps `owner[name]`, reading the arguments at `documents` through `lean`. */
function leanArguments(owner, name, documents) {
  const inner = owner[name];
  owner[name] = {
    [name](...args) {
      for (const index of documents) args[index] = lean(args[index]);
      return inner.apply(this, args);
    },
  }[name];
}

/**
 * Installs the boundary on the glue's classes (in place) and returns the glue's functions that
 * take documents, wrapped, for the entry point to export in place of the glue's.
 */
export function install(theGlue) {
  glue = theGlue;
  const { Twin, DeviceTwin } = glue;
  leanArguments(Twin, "fromJSON", [0]);
  Twin.prototype.patch = twinWrite("patch", false);
  Twin.prototype.replace = twinWrite("replace", true);
  leanArguments(DeviceTwin, "fromDeviceView", [0]);
  for (const name of ["applyDesiredPatch", "applyFullTwin", "report"]) leanArguments(DeviceTwin.prototype, name, [0]);
  const functions = {};
  for (const [name, documents] of [["merge", [0, 1]], ["validate", [0]], ["diff", [0, 1]], ["jsonPatch", [0, 1]], ["delta", [0, 1]]]) {
    functions[name] = glue[name];
    leanArguments(functions, name, documents);
  }
  return functions;
}
