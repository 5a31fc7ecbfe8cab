// Istio reads its settings (istiod's env, the proxy metadata pilot-agent gets as env) with Go's own
// parsers: time.ParseDuration for durations, strconv.ParseBool for booleans. A value Go refuses is
// ignored with a warning and the setting's default applies, so meshtrust must refuse exactly what Go
// refuses to know what Istio runs with. Stated here from Go's documented grammar; no code copied.

const NANOSECONDS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3, // U+00B5 micro sign
  μs: 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.Duration is an int64 of nanoseconds (2^63 - 1 at most): longer durations do not parse. */
const MAX_DURATION_NS = 2 ** 63 - 1;

/**
 * A Go duration string ("24h", "1h30m", "86400s", "1.5h", "-2m", "0") in milliseconds, or undefined
 * where time.ParseDuration returns an error: an empty string, a number without unit ("86400"), an
 * unknown unit ("1d"), a value beyond int64 nanoseconds.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  // A bare zero is the only number Go takes without a unit.
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let nanoseconds = 0;
  while (rest !== '') {
    const component = /^(\d*)(?:\.(\d*))?([^\d.]*)/.exec(rest);
    if (component === null) return undefined;
    const [whole, integer = '', fraction, unit = ''] = component;
    if (integer === '' && (fraction === undefined || fraction === '')) return undefined;
    const perUnit = NANOSECONDS_PER_UNIT[unit];
    if (perUnit === undefined) return undefined;
    nanoseconds += Number(integer || '0') * perUnit;
    if (fraction) nanoseconds += Number(`0.${fraction}`) * perUnit;
    if (nanoseconds > MAX_DURATION_NS) return undefined;
    rest = rest.slice(whole.length);
  }
  return (sign * nanoseconds) / 1e6;
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool: true or false for the spellings Go accepts, undefined for anything else ("yes", ""). */
export function parseGoBool(text: string): boolean | undefined {
  if (GO_TRUE.has(text)) return true;
  if (GO_FALSE.has(text)) return false;
  return undefined;
}

/**
 * strconv.ParseFloat(text, 64): a decimal number with optional exponent ("0.5", ".5", "5e-1", "+1"),
 * "Inf"/"Infinity" with an optional sign or "NaN" in any case, a hexadecimal float ("0x1p-1"), with
 * underscores only between digits ("1_000"); undefined for anything else ("", "50%", "0,5", " 0.5",
 * "-NaN") and for a finite number beyond float64 ("1e400": Go reports it out of range).
 */
export function parseGoFloat(text: string): number | undefined {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2].toLowerCase() === 'nan') return special[1] === '' ? Number.NaN : undefined;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  const hexadecimal = /^[+-]?0[xX]/.test(text);
  const digit = hexadecimal ? /[0-9a-fA-F]/ : /[0-9]/;
  for (let i = text.indexOf('_'); i !== -1; i = text.indexOf('_', i + 1)) {
    const before = text[i - 1] ?? '';
    const afterPrefix = hexadecimal && /[xX]/.test(before);
    if (!(digit.test(before) || afterPrefix) || !digit.test(text[i + 1] ?? '')) return undefined;
  }
  const plain = text.replaceAll('_', '');
  let value: number | undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(plain)) value = Number(plain);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(plain);
  if (hex && (hex[2] !== '' || hex[3] !== '')) {
    const mantissa = Number.parseInt(`${hex[2]}${hex[3]}`, 16) / 16 ** hex[3].length;
    value = (hex[1] === '-' ? -1 : 1) * mantissa * 2 ** Number(hex[4]);
  }
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** Whole seconds as a short duration for people: 86400 -> "24h", 5400 -> "1h30m", 8 -> "8s". */
export function formatSeconds(seconds: number): string {
  const total = Math.trunc(seconds);
  if (total === 0) return '0s';
  const sign = total < 0 ? '-' : '';
  const magnitude = Math.abs(total);
  const hours = Math.floor(magnitude / 3600);
  const minutes = Math.floor((magnitude % 3600) / 60);
  const rest = magnitude % 60;
  const parts = [hours > 0 ? `${hours}h` : '', minutes > 0 ? `${minutes}m` : '', rest > 0 ? `${rest}s` : ''];
  return sign + parts.join('');
}
