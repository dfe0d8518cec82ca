// The JSON-e test cases of shared/jsone. generate.js renders each with the
// reference implementation and writes the outcome to ../corpus.json.
//
// A case is {name, template, context?, deviation?}. A deviation is
// {reason, result} or {reason, error}: what our engine answers instead of the
// reference, and why. doc.go lists the same deviations.
'use strict';

const cases = [];

// Where the reference crashes with a JavaScript TypeError instead of
// reporting a JSON-e error, we give the error it meant: cases by name, with
// our message.
const endsEarly = 'SyntaxError: Unexpected end of input';
const noOperand = 'SyntaxError: Found: %s token, expected one of: !, (, +, -, [, false, identifier, null, number, string, true, {';
const crashes = {
  'interpolation/empty': noOperand.replace('%s', '}'),
  '$eval/syntax error': endsEarly,
  '$eval/empty expression': endsEarly,
  '$if/syntax error': endsEarly,
  '$find/syntax error in each': endsEarly,
  '$match/syntax error in condition': endsEarly,
  '$sort/by syntax error': endsEarly,
  '$sort/by not a string': 'TemplateError: $sort by(..) can evaluate string expressions only',
  'syntax/1 +': endsEarly,
  'syntax/[1, 2': endsEarly,
  'syntax/a[': endsEarly,
  'syntax/a[1': endsEarly,
  'syntax/max(1,)': noOperand.replace('%s', ')'),
  'syntax/[1,]': noOperand.replace('%s', ']'),
  'syntax/!': endsEarly,
  'syntax/-': endsEarly,
  'syntax/in': endsEarly,
  'syntax/1 in': endsEarly,
  'syntax/in interpolation': noOperand.replace('%s', '}'),
  'syntax/in $if': endsEarly,
  'syntax/in nested path': 'SyntaxError at template.a[0].b: Unexpected end of input',
  'path/syntax error': 'SyntaxError at template.a: ' + noOperand.replace('%s', '}').slice('SyntaxError: '.length),
  'call/split("a", "b", "c")': 'BuiltinError: invalid arguments to builtin: split',
};

function add(name, template, context, deviation) {
  const c = {name, template, context: prune(context || {}, template)};
  if (name in crashes) {
    deviation = {
      reason: 'the reference crashes with a JavaScript TypeError (an expression that ends early, a missing operand, ' +
        'a non-string by(), extra arguments); we report the JSON-e error it stands for',
      error: crashes[name],
    };
  }
  if (deviation) {
    c.deviation = deviation;
  }
  cases.push(c);
}

// Values every expression matrix below draws from, bound as context
// variables so that each case reads as `one + s`.
const palette = {
  n: null,
  t: true,
  f: false,
  z: 0,
  one: 1,
  neg: -3,
  flt: 2.5,
  es: '',
  s: 'abc',
  up: 'ABC',
  ws: ' \tx y\n ',
  uni: 'żółw😀',
  ea: [],
  arr: [1, 'b', [2]],
  eo: {},
  obj: {a: 1, b: [2]},
};
const ctx = () => JSON.parse(JSON.stringify(palette));

// prune drops the palette variables a template does not mention, to keep
// the corpus small.
function prune(context, template) {
  const text = JSON.stringify(template);
  const out = {};
  for (const k of Object.keys(context)) {
    if (!(k in palette) || new RegExp(`\\b${k}\\b`).test(text)) {
      out[k] = context[k];
    }
  }
  return out;
}

// ---------------------------------------------------------------- plain values

add('plain/scalars', [null, true, false, 0, -1.5, 1e21, 'text', ''], {});
add('plain/nested', {a: [1, {b: [true, {c: null}]}], d: {}, e: []}, {});
add('plain/top-level string', 'hello', {});
add('plain/top-level number', 42, {});
add('plain/top-level null', null, {});
add('plain/dollar-dollar key', {$$eval: 1, $$if: {$$map: 2}}, {});
add('plain/triple dollar key', {$$$x: 1}, {});
add('plain/reserved key', {$word: 1}, {});
add('plain/reserved key nested', {a: [0, {$foo: 1}]}, {});
add('plain/dollar key not a word', {'$1': 1, '$': 2, 'a$b': 3}, {});
add('plain/interpolated key', {'k-${s}': 1, '${one}': 2}, ctx());
add('plain/interpolated key with number', {'${flt}x': true}, ctx());
add('plain/interpolated key fails', {'${nope}': 1}, {});
add('plain/interpolated key array', {'${arr}': 1}, ctx());
add('plain/unknown operator-like key inside array', [{$evaluate: 1}], {});
add('plain/two operators', {$eval: '1', $json: 2}, {});
add('plain/operator with sibling key', {$eval: '1', other: 2}, {});

// ---------------------------------------------------------------- interpolation

add('interpolation/string', 'a ${s} b', ctx());
add('interpolation/number', '${one}/${flt}/${neg}/${z}', ctx());
add('interpolation/large and small numbers', '${a} ${b} ${c} ${d}', {a: 1e21, b: 1e-7, c: 0.1, d: 123456789012});
add('interpolation/booleans', '${t} ${f}', ctx());
add('interpolation/null is empty', '[${n}]', ctx());
add('interpolation/alone keeps string', '${s}', ctx());
add('interpolation/alone number becomes string', '${one}', ctx());
add('interpolation/alone null becomes empty string', '${n}', ctx());
add('interpolation/array fails', 'x ${arr}', ctx());
add('interpolation/object fails', '${obj}', ctx());
add('interpolation/empty array fails', '${ea}', ctx());
add('interpolation/function fails', '${min}', {}, {
  reason: 'interpolating a function is a TemplateError; the reference inserts the JavaScript source of the function',
  error: "TemplateError: interpolation of 'min' produced a function",
});
add('interpolation/expression', '${one + 2} ${s + "d"} ${arr[1]} ${obj.a}', ctx());
add('interpolation/several adjacent', '${s}${s}${one}', ctx());
add('interpolation/escaped', '$${s} and $${one}', ctx());
add('interpolation/double escaped', '$$${s}', ctx());
add('interpolation/dollar without brace', '$s $ ${s}$', ctx());
add('interpolation/brace in string literal', '${"}"}', {});
add('interpolation/unterminated', 'a ${s', ctx());
add('interpolation/unterminated after error', '${nope} ${1 +', {});
add('interpolation/junk before brace', '${s t}', ctx());
add('interpolation/empty', 'x${}', {});
add('interpolation/unknown variable', 'hi ${nobody}', {});
add('interpolation/nested object literal', '${{a: 1}.a}', {});
add('interpolation/in array', ['${s}', 'x${one}'], ctx());
add('interpolation/unicode', '${uni}!', ctx());

// ---------------------------------------------------------------- $eval

add('$eval/literal', {$eval: '1 + 2 * 3'}, {});
add('$eval/context', {$eval: 'obj'}, ctx());
add('$eval/not a string', {$eval: 3}, {});
add('$eval/syntax error', {$eval: '1 +'}, {});
add('$eval/empty expression', {$eval: ''}, {});
add('$eval/extra property', {$eval: '1', x: 1}, {});
add('$eval/function result', {$eval: 'min'}, {});
add('$eval/function inside result', {$eval: '[1, max]'}, {});
add('$eval/now', {$eval: 'now'}, {});
add('$eval/now from context', {$eval: 'now'}, {now: '2020-02-29T12:00:00.000Z'});
add('$eval/object literal', {$eval: '{a: 1, "b c": [s], d: {}}'}, ctx());
add('$eval/path in array', [1, {a: {$eval: 'nope'}}], {});

// ---------------------------------------------------------------- $json

add('$json/object sorted', {$json: {b: 1, a: [true, null, 'x']}}, {});
add('$json/scalars', [{$json: 1}, {$json: 'x'}, {$json: null}, {$json: 2.5}], {});
add('$json/escapes', {$json: {$eval: 'v'}}, {v: 'q"\\\n\t\u0001é'});
add('$json/rendered', {$json: {a: '${s}', b: {$eval: 'arr'}}}, ctx());
add('$json/function', {$json: {$eval: 'min'}}, {});
add('$json/function nested', {$json: {a: [{$eval: 'max'}]}}, {});
add('$json/extra property', {$json: 1, x: 1}, {});
add('$json/of nothing', [{$json: {$if: 'false', then: 1}}], {}, {
  reason: '$json of a template that renders to nothing is nothing; the reference serializes its internal delete marker as "{}"',
  result: [],
});
add('$json/numbers', {$json: [1e21, 1e-7, 0.5, -0, 100]}, {});

// ---------------------------------------------------------------- $if

add('$if/then', {$if: 'one', then: 'yes', else: 'no'}, ctx());
add('$if/else', {$if: 'z', then: 'yes', else: 'no'}, ctx());
add('$if/then only, false', {a: {$if: 'f', then: 1}, b: 2}, ctx());
add('$if/else only, true', [{$if: 't', else: 1}, 2], ctx());
add('$if/neither', {$if: 't'}, ctx());
add('$if/truthiness', [
  {$if: 'n', then: 1, else: 0}, {$if: 'es', then: 1, else: 0}, {$if: 'ea', then: 1, else: 0},
  {$if: 'eo', then: 1, else: 0}, {$if: 's', then: 1, else: 0}, {$if: 'arr', then: 1, else: 0},
  {$if: 'obj', then: 1, else: 0}, {$if: 'min', then: 1, else: 0}, {$if: 'neg', then: 1, else: 0},
], ctx());
add('$if/not a string', {$if: true, then: 1}, {});
add('$if/syntax error', {$if: '1 +', then: 1}, {});
add('$if/untaken branch with syntax error', {$if: 'true', then: 1, else: {$eval: '1 +'}}, {});
add('$if/taken branch with error', {$if: 'false', then: 1, else: {$eval: 'nope'}}, {});
add('$if/$then', {$if: 'true', $then: 1}, {});
add('$if/$then when false', {$if: 'false', $then: 1, else: 2}, {});
add('$if/$else', {$if: 'true', then: 1, $else: 2}, {}, {
  reason: 'an $if with an $else property is a TemplateError; the reference ignores it (its property check is not anchored, so any key ending in "then" or "else" passes)',
  error: 'TemplateError: $if has undefined properties: $else (then and else are written without $)',
});
add('$if/unknown property', {$if: 'true', then: 1, otherwise: 2}, {});
add('$if/not a string with unknown property', {$if: 1, then: 1, also: 2}, {});
add('$eval/not a string with unknown property', {$eval: 1, also: 2}, {});
add('$if/rendered branch', {$if: 'one', then: {a: '${s}'}}, ctx());
add('$if/top level nothing', {$if: 'false', then: 1}, {});

// ---------------------------------------------------------------- $flatten, $flattenDeep

add('$flatten/one level', {$flatten: [[1, [2]], 3, [], [[4]]]}, {});
add('$flatten/rendered', {$flatten: {$eval: '[arr, [s]]'}}, ctx());
add('$flatten/not an array', {$flatten: {a: 1}}, {});
add('$flatten/string', {$flatten: 'abc'}, {});
add('$flatten/extra property', {$flatten: [], x: 1}, {});
add('$flatten/with deleted items', {$flatten: [[1], {$if: 'false', then: [2]}, [3]]}, {});
add('$flattenDeep/deep', {$flattenDeep: [[1, [2, [3, [[]]]]], 4]}, {});
add('$flattenDeep/not an array', {$flattenDeep: 1}, {});
add('$flattenDeep/objects kept', {$flattenDeep: [[{a: [1]}]]}, {});

// ---------------------------------------------------------------- $fromNow

add('$fromNow/empty', {$fromNow: ''}, {});
add('$fromNow/units', [
  {$fromNow: '1 year'}, {$fromNow: '2 months'}, {$fromNow: '3 weeks'}, {$fromNow: '4 days'},
  {$fromNow: '5 hours'}, {$fromNow: '6 minutes'}, {$fromNow: '7 seconds'},
], {});
add('$fromNow/short units', [
  {$fromNow: '1y'}, {$fromNow: '1yr'}, {$fromNow: '1mo'}, {$fromNow: '1w'}, {$fromNow: '1wk'},
  {$fromNow: '1d'}, {$fromNow: '1h'}, {$fromNow: '1hr'}, {$fromNow: '1m'}, {$fromNow: '1min'},
  {$fromNow: '1s'}, {$fromNow: '1sec'},
], {});
add('$fromNow/combined', {$fromNow: '1 year 2 months 3 weeks 4 days 5 hours 6 minutes 7 seconds'}, {});
add('$fromNow/no spaces', {$fromNow: '2d3h'}, {});
add('$fromNow/upper case', {$fromNow: '2 DAYS 1 Hour'}, {});
add('$fromNow/negative', {$fromNow: '-1 day'}, {});
add('$fromNow/explicit plus', {$fromNow: '+ 1 hour'}, {});
add('$fromNow/from', {$fromNow: '1 day', from: '2020-02-28T00:00:00.000Z'}, {});
add('$fromNow/from rendered', {$fromNow: '1 hour', from: '${when}'}, {when: '2021-12-31T23:30:00.000Z'});
add('$fromNow/now in context', {$fromNow: '1 hour'}, {now: '2020-02-29T23:30:00.000Z'});
add('$fromNow/rendered offset', {$fromNow: '${n} days'}, {n: 3});
add('$fromNow/not a string', {$fromNow: 3}, {});
add('$fromNow/from empty means now', {$fromNow: '1 day', from: ''}, {});
add('$fromNow/from null means now', {$fromNow: '1 day', from: null}, {});
add('$fromNow/from rendering empty means now', {$fromNow: '1 day', from: '${es}'}, ctx());
add('$fromNow/from renders before the offset is checked', {$fromNow: 1, from: {$eval: 'nope'}}, {});
add('$fromNow/extra property', {$fromNow: '1 day', to: 'x'}, {});
add('$fromNow/invalid offset', {$fromNow: '3 fortnights'}, {}, {
  reason: 'an offset that does not parse is a TemplateError; the reference throws a plain JavaScript Error',
  error: "TemplateError: $fromNow: invalid time offset '3 fortnights'",
});
add('$fromNow/units out of order', {$fromNow: '1 s 1 y'}, {}, {
  reason: 'an offset that does not parse is a TemplateError; the reference throws a plain JavaScript Error',
  error: "TemplateError: $fromNow: invalid time offset '1 s 1 y'",
});
add('$fromNow/milliseconds kept', {$fromNow: '1 s', from: '2017-01-01T00:00:00.123Z'}, {});
add('$fromNow/from with offset zone', {$fromNow: '0 s', from: '2017-01-19T18:27:20.974+02:00'}, {});
add('$fromNow/from a date', {$fromNow: '1 day', from: '2017-03-01'}, {});

// ---------------------------------------------------------------- $let

add('$let/simple', {$let: {x: 1, y: '${s}'}, in: {$eval: 'x + 1'}}, ctx());
add('$let/shadows context', {$let: {s: 'inner'}, in: '${s}'}, ctx());
add('$let/nested', {$let: {a: 1}, in: {$let: {b: {$eval: 'a + 1'}}, in: {$eval: '[a, b]'}}}, {});
add('$let/evaluated value', {$let: {$eval: 'obj'}, in: {$eval: 'a'}}, ctx());
add('$let/not an object', {$let: [1], in: 1}, {});
add('$let/evaluates to non-object', {$let: {$eval: '[1]'}, in: 1}, {});
add('$let/bad key', {$let: {'a-b': 1}, in: 1}, {});
add('$let/interpolated bad key', {$let: {'${s}!': 1}, in: 1}, ctx());
add('$let/missing in', {$let: {a: 1}}, {});
add('$let/extra property', {$let: {a: 1}, in: 1, out: 2}, {});
add('$let/function value', {$let: {f: {$eval: 'max'}}, in: {$eval: 'f(1, 5)'}}, {});
add('$let/deleted value is undefined', {$let: {a: {$if: 'false', then: 1}, b: 2}, in: {$eval: '[defined("a"), defined("b")]'}}, {});
add('$let/all deleted', {$let: {a: {$if: 'false', then: 1}}, in: {$eval: 'defined("a")'}}, {});
add('$let/in renders to nothing', [{$let: {a: 1}, in: {$if: 'a == 2', then: 1}}], {});
add('$let/missing in after value error', {$let: {a: {$eval: 'nope'}}}, {});
add('$let/in is null', {$let: {a: 1}, in: null}, {});
add('$let/literal array with error', {$let: [{$eval: 'nope'}], in: 1}, {});
add('$let/error path', {x: {$let: {a: 1}, in: {y: {$eval: 'nope'}}}}, {});

// ---------------------------------------------------------------- $map

add('$map/array', {$map: [1, 2, 3], 'each(x)': {$eval: 'x * 2'}}, {});
add('$map/array with index', {$map: ['a', 'b'], 'each(x,i)': '${i}:${x}'}, {});
add('$map/index spacing', {$map: ['a'], 'each(x, i)': {$eval: 'i'}}, {});
add('$map/evaluated array', {$map: {$eval: 'arr'}, 'each(x)': {v: {$eval: 'x'}}}, ctx());
add('$map/object each(x)', {$map: {a: 1, b: 2}, 'each(x)': {'${x.key}!': {$eval: 'x.val + 1'}}}, {});
add('$map/object each(v,k)', {$map: {a: 1, b: 2}, 'each(v,k)': {'${k}${k}': {$eval: 'v * 10'}}}, {});
add('$map/object body not an object', {$map: {a: 1}, 'each(x)': 1}, {});
add('$map/object keys collide', {$map: {a: 1, b: 2}, 'each(v,k)': {same: '${k}'}}, {});
add('$map/nested', {$map: [1, 2], 'each(x)': {$map: [10, 20], 'each(y)': {$eval: 'x + y'}}}, {});
add('$map/outer variable', {$map: [1], 'each(x)': {$eval: '[x, s]'}}, ctx());
add('$map/deleted items dropped', {$map: [1, 2, 3, 4], 'each(x)': {$if: 'x % 2 == 0', then: 'x'}}, {});
add('$map/deleted items dropped 2', {$map: [1, 2, 3, 4], 'each(x)': {$if: 'x > 2', then: {$eval: 'x'}}}, {});
add('$map/object deleted entries dropped', {$map: {a: 1, b: 2}, 'each(v,k)': {$if: 'v > 1', then: {'${k}': {$eval: 'v'}}}}, {});
add('$map/deleted values inside body', {$map: [1, 2], 'each(x)': {a: {$eval: 'x'}, b: {$if: 'x == 2', then: 'two'}}}, {});
add('$map/not iterable', {$map: 'abc', 'each(x)': 1}, {});
add('$map/number', {$map: 3, 'each(x)': 1}, {});
add('$map/missing each', {$map: [1]}, {});
add('$map/bad each', {$map: [1], 'each(1x)': 1}, {});
add('$map/three names', {$map: [1], 'each(a,b,c)': 1}, {});
add('$map/extra property', {$map: [1], 'each(x)': 1, other: 2}, {});
add('$map/error in body', {$map: [1], 'each(x)': {a: {$eval: 'x.y'}}}, {});
add('$map/missing each, number', {$map: 5}, {});
add('$map/missing each, value error', {$map: {$eval: 'nope'}}, {});
add('$map/bad each, value error', {$map: {$eval: 'nope'}, 'each(1)': 1}, {});
add('$map/bad each, number', {$map: 5, 'each(1)': 1}, {});
add('$map/same name twice', {$map: [5, 6], 'each(x,x)': {$eval: 'x'}}, {});
add('$reduce/same name twice', {$reduce: [5, 6], 'each(a,a)': {$eval: 'a'}, initial: 0}, {});
add('$map/empty', {$map: [], 'each(x)': {$eval: 'nope'}}, {});
add('$map/object empty', {$map: {}, 'each(x)': 1}, {});

// ---------------------------------------------------------------- $reduce

add('$reduce/sum', {$reduce: [1, 2, 3], 'each(acc,x)': {$eval: 'acc + x'}, initial: 0}, {});
add('$reduce/with index', {$reduce: ['a', 'b'], 'each(acc,x,i)': {$eval: 'acc + x + str(i)'}, initial: ''}, {});
add('$reduce/initial not rendered', {$reduce: [], 'each(a,x)': 1, initial: '${x}'}, {});
add('$reduce/build object', {$reduce: {$eval: 'arr'}, 'each(acc, x)': {$mergeDeep: [{$eval: 'acc'}, {items: [{$eval: 'x'}]}]}, initial: {}}, ctx());
add('$reduce/deleted keeps accumulator', {$reduce: [1, 2, 3, 4], 'each(acc,x)': {$if: 'x % 2 == 0', then: {$eval: 'acc + x'}}, initial: 100}, {});
add('$reduce/not an array', {$reduce: {a: 1}, 'each(acc,x)': 1, initial: 0}, {});
add('$reduce/missing initial', {$reduce: [1], 'each(acc,x)': 1}, {});
add('$reduce/one name', {$reduce: [1], 'each(x)': 1, initial: 0}, {});
add('$reduce/extra property', {$reduce: [1], 'each(a,x)': 1, initial: 0, more: 1}, {});
add('$reduce/function accumulator', {$reduce: [1], 'each(a,x)': {$eval: 'min'}, initial: 0}, {});
add('$reduce/missing initial, not an array', {$reduce: 5, 'each(a,x)': 1}, {});
add('$reduce/missing initial, value error', {$reduce: {$eval: 'nope'}, 'each(a,x)': 1}, {});
add('$reduce/error in body', {$reduce: [1], 'each(a,x)': {$eval: 'a.b'}, initial: 0}, {});

// ---------------------------------------------------------------- $find

add('$find/first match', {$find: [1, 2, 3, 4], 'each(x)': 'x > 2'}, {});
add('$find/with index', {$find: ['a', 'b', 'c'], 'each(x,i)': 'i == 1'}, {});
add('$find/object items', {$find: [{n: 1}, {n: 2}], 'each(x)': 'x.n == 2'}, {});
add('$find/no match at top', {$find: [1, 2], 'each(x)': 'x > 5'}, {});
add('$find/no match in object', {a: {$find: [1, 2], 'each(x)': 'x > 5'}, b: 1}, {});
add('$find/no match in array', [0, {$find: [1, 2], 'each(x)': 'x > 5'}], {});
add('$find/not an array', {$find: 'abc', 'each(x)': 'true'}, {});
add('$find/each not a string', {$find: [1], 'each(x)': 1}, {});
add('$find/syntax error in each', {$find: [1], 'each(x)': 'x +'}, {});
add('$find/empty never evaluates', {$find: [], 'each(x)': 'x +'}, {});
add('$find/missing each, not an array', {$find: 5}, {});
add('$find/each not a string, value error', {$find: {$eval: 'nope'}, 'each(x)': 1}, {});
add('$find/each not a string, not an array', {$find: 5, 'each(x)': 1}, {});
add('$find/extra property', {$find: [1], 'each(x)': 'true', x: 1}, {});
add('$find/finds falsy value', {$find: [0, null, ''], 'each(x)': 'x == null'}, {});

// ---------------------------------------------------------------- $match

add('$match/all truthy in key order', {$match: {'one > 0': 'a', 'z': 'b', 's == "abc"': 'c', 't': {$eval: 'obj'}}}, ctx());
add('$match/none', {$match: {'false': 1}}, {});
add('$match/empty', {$match: {}}, {});
add('$match/not an object', {$match: [1]}, {});
add('$match/syntax error in condition', {$match: {'1 +': 1}}, {});
add('$match/unknown variable in condition', {$match: {'nope': 1}}, {});
add('$match/body error', {$match: {'true': {$eval: 'nope'}}}, {});
add('$match/deleted body', {$match: {'true': {$if: 'false', then: 1}, 'one == 1': 'kept'}}, ctx(), {
  reason: 'a $match case whose body renders to nothing adds nothing; the reference adds its internal delete marker, which prints as {}',
  result: ['kept'],
});
add('$match/deleted inside body', {$match: {'true': {a: {$if: 'false', then: 1}, b: 2}}}, {});
add('$match/extra property', {$match: {}, x: 1}, {});

// ---------------------------------------------------------------- $switch

add('$switch/one', {$switch: {'z': 'zero', 'one': 'one'}}, ctx());
add('$switch/default', {$switch: {'false': 1, $default: 'dflt'}}, {});
add('$switch/none at top', {$switch: {'false': 1}}, {});
add('$switch/none in object', {a: {$switch: {'false': 1}}, b: 2}, {});
add('$switch/none in array', [{$switch: {'false': 1}}, 2], {});
add('$switch/two truthy', {$switch: {'true': 1, '1': 2}}, {});
add('$switch/default ignored when one matches', {$switch: {'true': 'yes', $default: 'no'}}, {});
add('$switch/rendered body', {$switch: {'t': {v: '${s}'}}}, ctx());
add('$switch/body renders to nothing', [{$switch: {'true': {$if: 'false', then: 1}}}], {});
add('$switch/not an object', {$switch: 'x'}, {});
add('$switch/error in condition', {$switch: {'nope': 1}}, {});
add('$switch/extra property', {$switch: {}, x: 1}, {});

// ---------------------------------------------------------------- $merge, $mergeDeep

add('$merge/later wins', {$merge: [{a: 1, b: 1}, {b: 2, c: 2}, {c: 3}]}, {});
add('$merge/empty', {$merge: []}, {});
add('$merge/evaluated', {$merge: {$eval: '[obj, {c: s}]'}}, ctx());
add('$merge/deleted items dropped', {$merge: [{a: 1}, {$if: 'false', then: {b: 2}}, {c: 3}]}, {});
add('$merge/not an array', {$merge: {a: 1}}, {});
add('$merge/item not an object', {$merge: [{a: 1}, [2]]}, {});
add('$merge/item error wins over shape', {$merge: ['x', {a: {$eval: 'nope'}}]}, {});
add('$merge/no deep merge', {$merge: [{a: {x: 1}}, {a: {y: 2}}]}, {});
add('$merge/extra property', {$merge: [], x: 1}, {});
add('$mergeDeep/deep', {$mergeDeep: [{a: {x: 1, l: [1]}, b: 1}, {a: {y: 2, l: [2]}, b: {c: 1}}, {a: {x: 3}}]}, {});
add('$mergeDeep/empty', {$mergeDeep: []}, {});
add('$mergeDeep/replace object with scalar', {$mergeDeep: [{a: {x: 1}}, {a: 5}]}, {});
add('$mergeDeep/replace scalar with object', {$mergeDeep: [{a: 5}, {a: {x: 1}}]}, {});
add('$mergeDeep/array and object', {$mergeDeep: [{a: [1]}, {a: {x: 1}}]}, {});
add('$mergeDeep/not objects', {$mergeDeep: [1, 2]}, {});
add('$mergeDeep/input untouched', {$let: {a: {x: [1]}}, in: [{$mergeDeep: [{$eval: 'a'}, {x: [2]}]}, {$eval: 'a'}]}, {});

// ---------------------------------------------------------------- $sort

add('$sort/numbers', {$sort: [3, 1, 2, -1, 2.5]}, {});
add('$sort/strings', {$sort: ['b', 'a', 'C', '', 'aa']}, {});
add('$sort/by', {$sort: [{n: 'b', v: 2}, {n: 'a', v: 1}], 'by(x)': 'x.v'}, {});
add('$sort/by is stable', {$sort: [{k: 1, i: 0}, {k: 0, i: 1}, {k: 1, i: 2}, {k: 0, i: 3}], 'by(e)': 'e.k'}, {});
add('$sort/empty', {$sort: []}, {});
add('$sort/mixed types', {$sort: [1, 'a']}, {});
add('$sort/objects without by', {$sort: [{a: 1}]}, {});
add('$sort/booleans', {$sort: [true, false]}, {});
add('$sort/not an array', {$sort: 'abc'}, {});
add('$sort/by not a string', {$sort: [1], 'by(x)': 1}, {});
add('$sort/by syntax error', {$sort: [1], 'by(x)': 'x +'}, {});
add('$sort/by two names', {$sort: [1], 'by(x,y)': 'x'}, {});
add('$sort/by mixed results', {$sort: [1, 2], 'by(x)': 'x == 1 && "a" || 2'}, {});
add('$sort/by not a string, not an array', {$sort: 5, 'by(x)': 1}, {});
add('$sort/by not a string, value error', {$sort: {$eval: 'nope'}, 'by(x)': 1}, {});
add('$sort/extra property', {$sort: [1], other: 1}, {});

// ---------------------------------------------------------------- $reverse

add('$reverse/array', {$reverse: [1, [2], {a: 3}]}, {});
add('$reverse/evaluated', {$reverse: {$eval: 'arr'}}, ctx());
add('$reverse/empty', {$reverse: []}, {});
add('$reverse/not an array', {$reverse: 'abc'}, {});
add('$reverse/extra property', {$reverse: [], x: 1}, {});

// ---------------------------------------------------------------- delete markers in arrays and objects

add('delete/array items', [1, {$if: 'false', then: 2}, 3, {$switch: {}}, {$find: [], 'each(x)': 'x'}], {});
add('delete/object values', {a: {$if: 'false', then: 1}, b: {$if: 'true', then: 2}, c: {$switch: {}}}, {});
add('delete/nested arrays', [[{$if: 'false', then: 1}], [[{$if: 'false', then: 1}]]], {});
add('delete/interpolated key of deleted value', {'${nope}': {$if: 'false', then: 1}}, {});
add('delete/reserved key of deleted value', {$foo: {$if: 'false', then: 1}}, {});

// ---------------------------------------------------------------- expressions

add('expr/precedence', {$eval: '[1 + 2 * 3, (1 + 2) * 3, 2 ** 3 ** 2, -2 ** 2, 10 - 4 - 3, 12 / 4 / 3, !true || true, 1 < 2 == true]'}, {});
add('expr/numbers', {$eval: '[0, 007, 1.50, 10.25, 123456789]'}, {});
add('expr/strings', {$eval: '["a" + \'b\', "it\'s", \'say "hi"\', ""]'}, {});
add('expr/whitespace', {$eval: ' \n 1\t+\n2 '}, {});
add('expr/literals', {$eval: '[true, false, null, [], {}, [[]], {a: {}}]'}, {});
add('expr/object literal keys', {$eval: '{a: 1, "b": 2, \'c d\': 3}'}, {});
add('expr/identifiers', {$eval: '[_a, a_1, A]'}, {_a: 1, a_1: 2, A: 3});
add('expr/dot', {$eval: 'obj.b'}, ctx());
add('expr/dot missing', {$eval: 'obj.c'}, ctx());
add('expr/dot on array', {$eval: 'arr.a'}, ctx());
add('expr/dot on null', {$eval: 'n.a'}, ctx());
add('expr/dot on string', {$eval: 's.length'}, ctx());
add('expr/index object', {$eval: '[obj["a"], obj["zz"]]'}, ctx());
add('expr/index object with number', {$eval: 'obj[1]'}, ctx());
add('expr/index array', {$eval: '[arr[0], arr[2][0], arr[-1], arr[-3]]'}, ctx());
add('expr/index array out of bounds', {$eval: 'arr[3]'}, ctx());
add('expr/index array negative out of bounds', {$eval: 'arr[-4]'}, ctx(), {
  reason: 'an index below -length is out of bounds; the reference clamps it to the first item',
  error: 'InterpreterError: index out of bounds',
});
add('expr/index array by float', {$eval: 'arr[1.5]'}, ctx());
add('expr/index array by string', {$eval: 'arr["0"]'}, ctx());
add('expr/index string', {$eval: '[s[0], s[-1], uni[1], uni[4]]'}, ctx());
add('expr/index string out of bounds', {$eval: 's[3]'}, ctx());
add('expr/index number', {$eval: 'one[0]'}, ctx());
add('expr/index null', {$eval: 'n[0]'}, ctx());
add('expr/slice array', {$eval: '[arr[1:], arr[:1], arr[:], arr[-2:], arr[:-1], arr[5:], arr[2:1], arr[-10:10]]'}, ctx());
add('expr/slice string', {$eval: '[s[1:], s[:2], s[-2:], s[1:-1], uni[1:3], uni[-1:]]'}, ctx());
add('expr/slice by float', {$eval: 'arr[0:1.5]'}, ctx());
add('expr/slice by string', {$eval: 's["a":]'}, ctx());
add('expr/slice object', {$eval: 'obj[0:1]'}, ctx());
add('expr/slice object by string', {$eval: 'obj["a":]'}, ctx(), {
  reason: 'slicing an object is an error; the reference looks up the lower bound as a key',
  error: 'InterpreterError: infix: "[..]" expects array or string for slicing',
});
add('expr/slice number', {$eval: 'one[0:1]'}, ctx());
add('expr/chained access', {$eval: '{a: [{b: "xyz"}]}.a[0].b[1:]'}, {});
add('expr/call result access', {$eval: 'split("a,b", ",")[1]'}, {});
add('expr/unknown variable', {$eval: 'nope + 1'}, {});
add('expr/unknown function', {$eval: 'nope(1)'}, {});
add('expr/call a number', {$eval: 'one(1)'}, ctx());
add('expr/call a string', {$eval: 's()'}, ctx());
add('expr/call null', {$eval: 'n()'}, ctx());
add('expr/function equality', {$eval: '[min == min, min == max, min != max]'}, {});
add('expr/function in array literal', {$eval: 'len([min, max])'}, {});
add('expr/function value compared', {$eval: 'min == 1'}, {});
add('expr/builtin shadowed by context', {$eval: 'len'}, {len: 5});
add('expr/deep equality', {$eval: '[[1, [2]] == [1, [2]], {a: [1]} == {a: [1]}, {a: 1} == {a: 1, b: 2}, [1] == [1, 2], null == null, 1 == "1"]'}, {});
add('expr/string comparison', {$eval: '["a" < "b", "B" < "a", "abc" >= "abd", "" < "a"]'}, {});
add('expr/in string', {$eval: '["b" in "abc", "" in "abc", "x" in "abc"]'}, {});
add('expr/in array', {$eval: '[1 in [1, 2], [1] in [[1]], {a: 1} in [{a: 1}], 3 in []]'}, {});
add('expr/in object', {$eval: '["a" in obj, "z" in obj]'}, ctx());
add('expr/short circuit or', {$eval: 'true || nope'}, {});
add('expr/short circuit and', {$eval: 'false && nope'}, {});
add('expr/and or results are booleans', {$eval: '[1 && "x", 0 || "", s || 0, n && 1]'}, ctx());
add('expr/not', {$eval: '[!0, !!s, !arr, !ea, !eo, !min]'}, ctx());
add('expr/unary chains', {$eval: '[--1, -+-1, !-1, +1]'}, {});
add('expr/division by zero', {$eval: '1 / 0'}, {});
add('expr/zero division by zero', {$eval: '0 / 0'}, {});
add('expr/float arithmetic', {$eval: '[0.1 + 0.2, 1 / 3, 2 ** 0.5, 7 / 2]'}, {});
add('expr/power is right associative', {$eval: '2 ** 2 ** 3'}, {});
add('expr/large power', {$eval: '10 ** 400'}, {}, {
  reason: 'arithmetic that overflows is an error; the reference produces Infinity, which JSON cannot hold',
  error: 'InterpreterError: arithmetic result is not a finite number',
});
add('expr/large product', {$eval: '1e308'}, {});
add('expr/negative zero', {$eval: '[-0, 0 * -1]'}, {});
add('expr/big integer', {$eval: '123456789012345678901234567890'}, {});
add('expr/int formatting', {$eval: 'str(2 ** 60)'}, {});
add('expr/object literal with expression values', {$eval: '{a: 1 + 1, b: s + "!", c: [one]}'}, ctx());
add('expr/object literal duplicate keys', {$eval: '{a: 1, a: 2}'}, {});

// Syntax errors.
const syntaxErrors = [
  '1 +', '(1', '1)', '[1, 2', '{a: 1', '{a 1}', '{1: 2}', '1 2', 'a.', 'a.1', 'a[', 'a[1', 'a[1:2',
  'max(1,)', 'max(1 2)', '"abc', "'abc", '1 # 2', '@', 'a ? b : c', '1 === 1', '[1,]', '{a: 1,}',
  ')', ']', '}', ',', ':', '.', '..', '!', '-', 'in', '1 in', 'true false', 'a b c', '=',
];
syntaxErrors.forEach(src => add(`syntax/${src}`, {$eval: src}, {a: 1, b: 2, c: 3}));
add('syntax/in interpolation', 'x ${1 +} y', {});
add('syntax/in interpolation with junk', '${a b}', {a: 1});
add('syntax/unknown character in interpolation', '${a # b}', {a: 1});
add('syntax/in $if', {$if: '(', then: 1}, {});
add('syntax/in $switch', {$switch: {'a b': 1}}, {a: 1});
add('syntax/in $sort by', {$sort: [1, 2], 'by(x)': 'x x'}, {});
add('syntax/in nested path', {a: [{b: {$eval: '1 +'}}]}, {});

// ---------------------------------------------------------------- operator matrix
//
// Every binary operator with every pair of a small set of operand kinds:
// results and type errors.

const operands = ['n', 't', 'z', 'one', 'flt', 'es', 's', 'arr', 'obj'];
const infix = ['+', '-', '*', '/', '**', '<', '<=', '>', '>=', '==', '!=', '&&', '||', 'in'];
const matrixDeviations = {
  'flt ** flt': {
    reason: "powers with a fractional exponent come from Go's math.Pow, which may differ from JavaScript's Math.pow in the last digit",
    result: 9.882117688026186,
  },
};
for (const op of infix) {
  for (const l of operands) {
    for (const r of operands) {
      const src = `${l} ${op} ${r}`;
      add(`matrix/${src}`, {$eval: src}, ctx(), matrixDeviations[src]);
    }
  }
}
for (const op of ['!', '-', '+']) {
  for (const x of Object.keys(palette)) {
    add(`matrix/${op}${x}`, {$eval: `${op}${x}`}, ctx());
  }
}

// ---------------------------------------------------------------- built-ins
//
// Every built-in with no argument, each single argument of the palette, and
// the argument pairs its signature takes.

const builtins = [
  'min', 'max', 'sqrt', 'ceil', 'floor', 'abs', 'lowercase', 'uppercase', 'len', 'str', 'number',
  'strip', 'lstrip', 'rstrip', 'split', 'join', 'fromNow', 'typeof', 'defined', 'range',
];

// JavaScript accidents we do not chase, by builtin and argument list: the
// reference either fails with a plain JavaScript exception or returns a
// value JSON cannot hold.
const builtinDeviations = {
  'sqrt(neg)': {
    reason: 'sqrt of a negative number is a BuiltinError; the reference returns NaN, which JSON cannot hold',
    error: 'BuiltinError: invalid arguments to builtin: sqrt',
  },
  'number(s)': {
    reason: 'number() of a string that is not a decimal number is a BuiltinError; the reference returns NaN',
    error: 'BuiltinError: invalid arguments to builtin: number',
  },
  'number(up)': {
    reason: 'number() of a string that is not a decimal number is a BuiltinError; the reference returns NaN',
    error: 'BuiltinError: invalid arguments to builtin: number',
  },
  'number(ws)': {
    reason: 'number() of a string that is not a decimal number is a BuiltinError; the reference returns NaN',
    error: 'BuiltinError: invalid arguments to builtin: number',
  },
  'number(uni)': {
    reason: 'number() of a string that is not a decimal number is a BuiltinError; the reference returns NaN',
    error: 'BuiltinError: invalid arguments to builtin: number',
  },
  'number(es)': {
    reason: 'number() of the empty string is a BuiltinError; the reference returns 0 (JavaScript\'s Number(""))',
    error: 'BuiltinError: invalid arguments to builtin: number',
  },
  'fromNow(s)': {
    reason: 'fromNow() with an offset that does not parse is a BuiltinError; the reference throws a plain JavaScript Error',
    error: "BuiltinError: invalid arguments to builtin: fromNow: invalid time offset 'abc'",
  },
  'fromNow(up)': {
    reason: 'fromNow() with an offset that does not parse is a BuiltinError; the reference throws a plain JavaScript Error',
    error: "BuiltinError: invalid arguments to builtin: fromNow: invalid time offset 'ABC'",
  },
  'fromNow(ws)': {
    reason: 'fromNow() with an offset that does not parse is a BuiltinError; the reference throws a plain JavaScript Error',
    error: "BuiltinError: invalid arguments to builtin: fromNow: invalid time offset ' \tx y\n '",
  },
  'fromNow(uni)': {
    reason: 'fromNow() with an offset that does not parse is a BuiltinError; the reference throws a plain JavaScript Error',
    error: "BuiltinError: invalid arguments to builtin: fromNow: invalid time offset 'żółw😀'",
  },
};

for (const fn of builtins) {
  add(`builtin/${fn}()`, {$eval: `${fn}()`}, ctx(), builtinDeviations[`${fn}()`]);
  for (const x of Object.keys(palette)) {
    const call = `${fn}(${x})`;
    add(`builtin/${call}`, {$eval: call}, ctx(), builtinDeviations[call]);
  }
}

// Calls with specific arguments.
const calls = [
  'min(1, 2, -3)', 'max(1, 2, -3)', 'min(2.5)', 'max(1, "a")', 'min(1, null)',
  'sqrt(16)', 'sqrt(2)', 'ceil(1.2)', 'ceil(-1.2)', 'floor(1.8)', 'floor(-1.8)', 'abs(-0.5)',
  'lowercase("ÀBC")', 'uppercase("àbc")',
  'len("😀a")', 'len([1, [2, 3]])',
  'str(1.5)', 'str(0.1 + 0.2)', 'str(1e21)', 'str(-0)', 'str(100)', 'str(true)', 'str(null)',
  'number("12")', 'number("-1.5")', 'number(" 7 ")', 'number("1e3")', 'number("1.")', 'number(".5")',
  'strip("\\u00a0x")', 'lstrip("  x  ")', 'rstrip("  x  ")', 'strip("xx")',
  'split("a,b,,c", ",")', 'split("abc", "")', 'split("a1b1c", 1)', 'split("", ",")', 'split("abc", "abc")',
  'split("a.b", ".")', 'split("a", "b", "c")', 'split(1, ",")', 'split("a", [])',
  'join(["a", "b"], ",")', 'join([1, 2.5], "-")', 'join([], ",")', 'join(["a"], 0)', 'join("ab", ",")',
  'join(["a"], [])', 'join(["a", "b"], "")',
  'fromNow("1 day")', 'fromNow("1 day", "2020-01-01T00:00:00.000Z")', 'fromNow("-2 hours", now)',
  'fromNow(1)', 'fromNow("1 day", 1)', 'fromNow("1 day", "")', 'fromNow("0 s", "2017-01-19")',
  'typeof(min)', 'typeof(typeof)', 'typeof([])', 'typeof({})',
  'defined("s")', 'defined("nope")', 'defined("min")', 'defined("now")', 'defined(1)',
  'range(0, 5)', 'range(5, 0)', 'range(0, 10, 3)', 'range(10, 0, -3)', 'range(-2, 2)', 'range(0, 0)',
  'range(0, 5, -1)', 'range(0, 1.5)', 'range(0.5, 2)', 'range(0, 5, 1.5)', 'range(0, "5")', 'range(0)',
  'range(1, 4, 1)',
];
for (const call of calls) {
  add(`call/${call}`, {$eval: call}, ctx());
}
add('call/range step zero', {$eval: 'range(0, 5, 0)'}, {}, {
  reason: 'range() with step 0 is a BuiltinError; the reference asks JavaScript for an array of length Infinity and throws a RangeError',
  error: 'BuiltinError: invalid arguments to builtin: range',
});
add('call/sqrt with two arguments', {$eval: 'sqrt(4, 9)'}, {}, {
  reason: 'a built-in given too many arguments is a BuiltinError; the reference fails with a JavaScript TypeError',
  error: 'BuiltinError: invalid arguments to builtin: sqrt',
});
add('call/lowercase with two arguments', {$eval: 'lowercase("A", "B")'}, {}, {
  reason: 'a built-in given too many arguments is a BuiltinError; the reference fails with a JavaScript TypeError',
  error: 'BuiltinError: invalid arguments to builtin: lowercase',
});
add('call/join with nulls', {$eval: 'join([null, "a"], ",")'}, {}, {
  reason: 'join() takes strings and numbers only; the reference stringifies anything the JavaScript way (null as empty)',
  error: 'BuiltinError: invalid arguments to builtin: join',
});
add('call/join with nested arrays', {$eval: 'join([[1, 2], "a"], ";")'}, {}, {
  reason: 'join() takes strings and numbers only; the reference stringifies anything the JavaScript way (arrays comma-joined)',
  error: 'BuiltinError: invalid arguments to builtin: join',
});
add('call/fromNow bad reference', {$eval: 'fromNow("1 day", "yesterday")'}, {}, {
  reason: 'fromNow() with a reference that is not a timestamp is a BuiltinError; the reference throws a JavaScript RangeError',
  error: "BuiltinError: invalid arguments to builtin: fromNow: invalid timestamp 'yesterday'",
});

// ---------------------------------------------------------------- context

add('context/key rules', {$eval: 'a_1'}, {a_1: 1, _b: 2, C: 3});
add('context/now overrides the clock', [{$eval: 'now'}, {$fromNow: '1 day'}], {now: '2000-01-01T00:00:00.000Z'});
add('context/builtins can be shadowed', {$eval: 'max'}, {max: 'mine'});
add('context/deep values', {$eval: 'a.b.c[0].d'}, {a: {b: {c: [{d: 'deep'}]}}});

// ---------------------------------------------------------------- error locations

add('path/object keys', {a: {b: {$eval: 'nope'}}}, {});
add('path/array items', [0, [1, {$eval: 'nope'}]], {});
add('path/odd keys', {'b-c': {'d e': {'1': {$eval: 'nope'}}}}, {});
add('path/key with quote', {'a"b': {$eval: 'nope'}}, {});
add('path/through operators', {a: {$let: {x: 1}, in: {b: [{$eval: 'nope'}]}}}, {});
add('path/through $map body', {a: {$map: [1], 'each(x)': {b: {$eval: 'nope'}}}}, {});
add('path/template error', {a: [{$if: 1}]}, {});
add('path/builtin error', {a: {$eval: 'len(1)'}}, {});
add('path/syntax error', {a: '${1 +}'}, {});
add('path/first failing key in sorted order', {b: {$eval: 'x'}, a: {$eval: 'y'}}, {});

module.exports = cases;
