/** JSONata's built-in functions, with their signatures as its documentation writes them, for autocompletion. */
export interface JsonataFunction {
  name: string;
  signature: string;
  description: string;
}

const f = (name: string, signature: string, description: string): JsonataFunction => ({ name, signature, description });

export const JSONATA_FUNCTIONS: readonly JsonataFunction[] = [
  // strings
  f('$string', '$string(arg, prettify)', 'Casts arg to a string (JSON for objects and arrays).'),
  f('$length', '$length(str)', 'Number of characters in str.'),
  f(
    '$substring',
    '$substring(str, start[, length])',
    'Part of str from start (0-based; negative counts from the end).',
  ),
  f('$substringBefore', '$substringBefore(str, chars)', 'Part of str before the first occurrence of chars.'),
  f('$substringAfter', '$substringAfter(str, chars)', 'Part of str after the first occurrence of chars.'),
  f('$uppercase', '$uppercase(str)', 'str in upper case.'),
  f('$lowercase', '$lowercase(str)', 'str in lower case.'),
  f('$trim', '$trim(str)', 'str with whitespace collapsed and trimmed.'),
  f('$pad', '$pad(str, width[, char])', 'str padded to width (negative width pads on the left).'),
  f('$contains', '$contains(str, pattern)', 'Whether str contains pattern (a string or regex).'),
  f('$split', '$split(str, separator[, limit])', 'str split into an array of strings.'),
  f('$join', '$join(array[, separator])', 'The strings of array joined into one string.'),
  f('$match', '$match(str, pattern[, limit])', 'The matches of a regex in str.'),
  f('$replace', '$replace(str, pattern, replacement[, limit])', 'str with pattern replaced.'),
  f('$eval', '$eval(expr[, context])', 'Evaluates a JSONata expression given as a string.'),
  f('$base64encode', '$base64encode(str)', 'str encoded as base 64.'),
  f('$base64decode', '$base64decode(str)', 'A base 64 string decoded.'),
  f('$encodeUrlComponent', '$encodeUrlComponent(str)', 'str encoded as a URL component.'),
  f('$encodeUrl', '$encodeUrl(str)', 'str encoded as a URL.'),
  f('$decodeUrlComponent', '$decodeUrlComponent(str)', 'A URL component decoded.'),
  f('$decodeUrl', '$decodeUrl(str)', 'A URL decoded.'),
  // numbers
  f('$number', '$number(arg)', 'Casts arg to a number.'),
  f('$abs', '$abs(number)', 'Absolute value.'),
  f('$floor', '$floor(number)', 'Rounded down.'),
  f('$ceil', '$ceil(number)', 'Rounded up.'),
  f('$round', '$round(number[, precision])', 'Rounded half to even, to precision decimals.'),
  f('$power', '$power(base, exponent)', 'base to the power exponent.'),
  f('$sqrt', '$sqrt(number)', 'Square root.'),
  f('$random', '$random()', 'A random number between 0 (inclusive) and 1.'),
  f('$formatNumber', '$formatNumber(number, picture[, options])', 'number as a string, e.g. picture "#,##0.00".'),
  f('$formatBase', '$formatBase(number[, radix])', 'number as a string in base radix.'),
  f('$formatInteger', '$formatInteger(number, picture)', 'number as words or numerals, e.g. picture "w".'),
  f('$parseInteger', '$parseInteger(string, picture)', 'The number a formatted string stands for.'),
  // aggregates
  f('$sum', '$sum(array)', 'Sum of the numbers of array.'),
  f('$max', '$max(array)', 'Largest number of array.'),
  f('$min', '$min(array)', 'Smallest number of array.'),
  f('$average', '$average(array)', 'Mean of the numbers of array.'),
  // booleans
  f('$boolean', '$boolean(arg)', 'Casts arg to true or false.'),
  f('$not', '$not(arg)', 'The opposite of $boolean(arg).'),
  f('$exists', '$exists(arg)', 'Whether arg has a value (a path matched something).'),
  // arrays
  f('$count', '$count(array)', 'Number of items in array.'),
  f('$append', '$append(array1, array2)', 'The two arrays one after the other.'),
  f('$sort', '$sort(array[, function])', 'array sorted, by a comparison function if given.'),
  f('$reverse', '$reverse(array)', 'array in reverse order.'),
  f('$shuffle', '$shuffle(array)', 'array in a random order.'),
  f('$distinct', '$distinct(array)', 'array without duplicate values.'),
  f('$zip', '$zip(array1, ...)', 'The arrays interleaved into an array of tuples.'),
  // objects
  f('$keys', '$keys(object)', 'The keys of object.'),
  f('$lookup', '$lookup(object, key)', 'The value of key in object.'),
  f('$spread', '$spread(object)', 'object split into an array of one-key objects.'),
  f('$merge', '$merge(array<object>)', 'The objects merged into one (later keys win).'),
  f('$sift', '$sift(object, function)', 'The entries of object the function keeps.'),
  f('$each', '$each(object, function)', 'The function applied to each value and key of object.'),
  f('$error', '$error(message)', 'Fails the record with message.'),
  f('$assert', '$assert(condition, message)', 'Fails the record with message unless condition holds.'),
  f('$type', '$type(value)', 'The type of value: "string", "number", "object"…'),
  // higher order
  f('$map', '$map(array, function)', 'The function applied to each item of array.'),
  f('$filter', '$filter(array, function)', 'The items of array the function keeps.'),
  f('$single', '$single(array, function)', 'The one item of array the function keeps (fails otherwise).'),
  f('$reduce', '$reduce(array, function[, init])', 'array folded into one value.'),
  // dates
  f('$now', '$now([picture[, timezone]])', 'The time now as an ISO 8601 string (the same for one evaluation).'),
  f('$millis', '$millis()', 'The time now in milliseconds since the epoch.'),
  f('$fromMillis', '$fromMillis(number[, picture[, timezone]])', 'Milliseconds since the epoch as an ISO 8601 string.'),
  f('$toMillis', '$toMillis(timestamp[, picture])', 'An ISO 8601 (or pictured) time as milliseconds since the epoch.'),
];
