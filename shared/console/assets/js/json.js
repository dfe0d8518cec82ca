// JSON with positions: where a syntax error is, and where each property of
// a document starts, so that errors can point at the line to fix.

// parse returns {value} for valid JSON, or {error: {message, offset, line,
// col}} saying what is wrong and where.
export function parse(text) {
  try {
    return {value: JSON.parse(text)};
  } catch (err) {
    try {
      scan(text);
    } catch (e) {
      return {error: {message: e.message, offset: e.offset, ...lineCol(text, e.offset)}};
    }
    return {error: {message: err.message, offset: 0, line: 1, col: 1}};
  }
}

// locations maps each property path of a valid document (as the server's
// schema errors name them: "metadata.owner", "schedule.0") to the offset
// of its key, or of the item for array elements.
export function locations(text) {
  return scan(text);
}

// lineCol turns an offset into a 1-based line and column.
export function lineCol(text, offset) {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return {line, col: offset - before.lastIndexOf("\n")};
}

// lineRange is the start and end offsets of a 1-based line.
export function lineRange(text, line) {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break;
    start = nl + 1;
  }
  const end = text.indexOf("\n", start);
  return [start, end < 0 ? text.length : end];
}

const join = (path) => path.join(".");

function scan(text) {
  let i = 0;
  const locs = new Map([["", 0]]);
  const fail = (msg) => {
    const err = new Error(msg);
    err.offset = Math.min(i, text.length);
    throw err;
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        try {
          return JSON.parse(text.slice(start, i));
        } catch {
          i = start;
          fail("invalid escape sequence in a string");
        }
      }
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c < " ") fail("a string cannot hold a raw line break or control character (write \\n)");
      i++;
    }
    i = start;
    return fail("a string is not closed with a double quote");
  };
  const number = () => {
    const re = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m || m[0] === "-") fail("invalid number");
    i += m[0].length;
  };
  const value = (path) => {
    ws();
    const c = text[i];
    if (c === "{") return object(path);
    if (c === "[") return array(path);
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const lit of ["true", "false", "null"]) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    if (i >= text.length) fail("the text ends where a value should be");
    if (c === "'") fail("strings take double quotes, not single quotes");
    fail(`unexpected ${JSON.stringify(c)} where a value should be`);
  };
  const object = (path) => {
    i++;
    ws();
    if (text[i] === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail(text[i] === "}" ? "a comma cannot come before '}'" : "expected a property name in double quotes");
      const at = i;
      const key = string();
      locs.set(join([...path, key]), at);
      ws();
      if (text[i] !== ":") fail("expected ':' after the property name");
      i++;
      value([...path, key]);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return;
      }
      fail("expected ',' or '}' after a property value");
    }
  };
  const array = (path) => {
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      ws();
      if (text[i] === "]") fail("a comma cannot come before ']'");
      locs.set(join([...path, n]), i);
      value([...path, n]);
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return;
      }
      fail("expected ',' or ']' after an array item");
    }
  };
  value([]);
  ws();
  if (i < text.length) fail("unexpected text after the end of the JSON value");
  return locs;
}

// schemaProblems reads the problems out of an InputValidationError message
// ("Schema validation error:\n * metadata.owner: Does not match format
// 'email'\n"), each with the path it names.
export function schemaProblems(detail) {
  const out = [];
  for (const line of detail.split("\n")) {
    const m = line.match(/^\s*\*\s+([^:]+):\s*(.*)$/);
    if (!m) continue;
    let path = m[1].trim() === "body" ? "" : m[1].trim();
    const extra = m[2].match(/^Additional property (\S+) is not allowed/);
    if (extra) path = path ? `${path}.${extra[1]}` : extra[1];
    const req = m[2].match(/^(\S+) is required/);
    out.push({path, field: m[1].trim(), message: m[2], required: req ? req[1] : null});
  }
  return out;
}
