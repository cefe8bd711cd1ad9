// JSON *text* helpers for the playground. They never parse to JavaScript values: JSON.parse would
// reorder integer-like keys and round large or precise numbers, and the engine keeps both exactly,
// so the page shows the engine's text as it is, only re-indented.

/** Indents JSON text (compact or not) by two spaces, strings copied verbatim, `{}` and `[]` kept. */
export function pretty(text) {
  let out = "";
  let depth = 0;
  const newline = () => "\n" + "  ".repeat(depth);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === "{" || c === "[") {
      const next = skipSpace(text, i + 1);
      if (text[next] === (c === "{" ? "}" : "]")) {
        out += c + text[next];
        i = next;
      } else {
        depth++;
        out += c + newline();
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += newline() + c;
    } else if (c === ",") {
      out += "," + newline();
    } else if (c === ":") {
      out += ": ";
    } else if (!isSpace(c)) {
      out += c;
    }
  }
  return out;
}

/**
 * Where each node of a JSON text is: a Map from JSON Pointer to [start, end) offsets, covering
 * `"key": value` for object members and the value alone for array items and the root. The text
 * may be broken (the user is typing): the nodes read before the break are still returned.
 */
export function locate(text) {
  const spans = new Map();
  let i = 0;
  const fail = () => {
    throw new SyntaxError(`JSON text ends or breaks at ${i}`);
  };
  const expect = (c) => {
    i = skipSpace(text, i);
    if (text[i] !== c) fail();
    i++;
  };
  const string = () => {
    const start = i;
    i = stringEnd(text, i);
    if (i > text.length) fail();
    return JSON.parse(text.slice(start, i));
  };
  const value = (pointer, from) => {
    i = skipSpace(text, i);
    const start = from ?? i;
    if (text[i] === "{") {
      i = skipSpace(text, i + 1);
      if (text[i] === "}") i++;
      else {
        for (;;) {
          i = skipSpace(text, i);
          if (text[i] !== '"') fail();
          const keyStart = i;
          const key = string();
          expect(":");
          value(`${pointer}/${escape(key)}`, keyStart);
          i = skipSpace(text, i);
          if (text[i++] === "}") break;
          if (text[i - 1] !== ",") fail();
        }
      }
    } else if (text[i] === "[") {
      i = skipSpace(text, i + 1);
      if (text[i] === "]") i++;
      else {
        for (let n = 0; ; n++) {
          value(`${pointer}/${n}`);
          i = skipSpace(text, i);
          if (text[i++] === "]") break;
          if (text[i - 1] !== ",") fail();
        }
      }
    } else if (text[i] === '"') {
      string();
    } else {
      // A number, true, false or null: up to the next delimiter.
      const begin = i;
      while (i < text.length && !isSpace(text[i]) && !",]}".includes(text[i])) i++;
      if (i === begin) fail();
    }
    spans.set(pointer, [start, i]);
  };
  try {
    value("");
  } catch {
    // Broken text: keep what was found.
  }
  return spans;
}

/** A JSON Pointer reference token (RFC 6901): `~` and `/` escaped. */
function escape(key) {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

function isSpace(c) {
  return c === " " || c === "\n" || c === "\r" || c === "\t";
}

function skipSpace(text, i) {
  while (i < text.length && isSpace(text[i])) i++;
  return i;
}

/** The offset just after the string that starts (with its quote) at `i`. */
function stringEnd(text, i) {
  for (i++; i < text.length && text[i] !== '"'; i++) {
    if (text[i] === "\\") i++;
  }
  return i + 1;
}
