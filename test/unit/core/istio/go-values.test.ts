// Go's duration and boolean grammar, as Istio reads SECRET_TTL, DEFAULT_WORKLOAD_CERT_TTL,
// ISTIO_MULTIROOT_MESH and PROXY_CONFIG_XDS_AGENT: a value Go refuses must come out undefined.
import { formatSeconds, parseGoBool, parseGoDuration } from '../../../../lambdas/core/istio/go-values.js';

const HOUR_MS = 3_600_000;

describe('parseGoDuration', () => {
  it('reads the forms Istio settings use: hours, hours and minutes, seconds', () => {
    // Act
    const parsed = ['24h', '1h30m', '86400s', '2160h', '8s', '500ms'].map(parseGoDuration);
    // Assess
    expect(parsed).toEqual([24 * HOUR_MS, 1.5 * HOUR_MS, 24 * HOUR_MS, 90 * 24 * HOUR_MS, 8000, 500]);
  });

  it('reads fractions, signs, every unit and a bare zero as Go does', () => {
    // Act
    const parsed = [
      '1.5h',
      '.5s',
      '5.s',
      '-2m',
      '+3s',
      '0',
      '-0',
      '1h0m0s',
      '1000us',
      '1000µs',
      '1000μs',
      '1000000ns',
    ].map(parseGoDuration);
    // Assess
    expect(parsed).toEqual([1.5 * HOUR_MS, 500, 5000, -120_000, 3000, 0, 0, HOUR_MS, 1, 1, 1, 1]);
  });

  it('refuses what time.ParseDuration refuses: no unit, unknown units, days, blanks, empty text, overflow', () => {
    // Act
    const parsed = ['86400', '1d', '24H', '1h30', '1h 30m', ' 24h', '', '-', '.', 'h', '3000000h'].map(
      parseGoDuration,
    );
    // Assess
    expect(parsed).toEqual(Array(11).fill(undefined));
  });
});

describe('parseGoBool', () => {
  it("takes strconv.ParseBool's spellings and nothing else", () => {
    // Act
    const truthy = ['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseGoBool);
    const falsy = ['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseGoBool);
    const neither = ['yes', 'on', 'tRUE', ' true', ''].map(parseGoBool);
    // Assess
    expect(truthy).toEqual(Array(6).fill(true));
    expect(falsy).toEqual(Array(6).fill(false));
    expect(neither).toEqual(Array(5).fill(undefined));
  });
});

describe('formatSeconds', () => {
  it('writes whole seconds as a short duration without empty units', () => {
    // Act
    const written = [86400, 5400, 8, 0, 90061, 3600 * 2160].map(formatSeconds);
    // Assess
    expect(written).toEqual(['24h', '1h30m', '8s', '0s', '25h1m1s', '2160h']);
  });
});
