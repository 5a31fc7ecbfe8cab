// meshtrust must read Istio's settings exactly as Go reads them (lambdas/core/istio/go-values.ts): a
// value Go refuses makes Istio fall back to its default. Here Go itself (strconv.ParseFloat,
// strconv.ParseBool, time.ParseDuration, run by `go run`) parses the same texts, and every verdict and
// value must agree. The texts are the tricky ones: signs, exponents, hex floats, underscores, Inf/NaN,
// overflow, blanks, units.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseGoBool, parseGoDuration, parseGoFloat } from '../../../lambdas/core/istio/go-values.js';

const run = promisify(execFile);

const GO_PROGRAM = `package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

type answer struct {
	Ok    bool   \`json:"ok"\`
	Value string \`json:"value"\`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := []answer{}
	for in.Scan() {
		var q struct{ Kind, Text string }
		if err := json.Unmarshal(in.Bytes(), &q); err != nil {
			panic(err)
		}
		switch q.Kind {
		case "float":
			v, err := strconv.ParseFloat(q.Text, 64)
			switch {
			case err != nil:
				out = append(out, answer{})
			case math.IsNaN(v):
				out = append(out, answer{true, "NaN"})
			default:
				out = append(out, answer{true, strconv.FormatFloat(v, 'g', -1, 64)})
			}
		case "bool":
			v, err := strconv.ParseBool(q.Text)
			out = append(out, answer{err == nil, fmt.Sprint(v)})
		case "duration":
			v, err := time.ParseDuration(q.Text)
			out = append(out, answer{err == nil, fmt.Sprint(int64(v))})
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

const FLOATS = [
  '0.5',
  '.5',
  '5.',
  '5e-1',
  '+1',
  '-0.2',
  '00.5',
  '1.5E+2',
  '+.5',
  '-.5e-2',
  '0',
  '-0',
  '1e-7',
  'Inf',
  '-inf',
  '+Infinity',
  'infinity',
  'NaN',
  'nan',
  '+NaN',
  '-NaN',
  '0x1p-1',
  '0x.8p0',
  '0x1P+2',
  '0x1.8p1',
  '0X1p-2',
  '0x1p',
  '0x1',
  '0xp1',
  '1_0',
  '1__0',
  '_1',
  '1_',
  '1_.5',
  '1._5',
  '0x_1p0',
  '1e1_0',
  '0_1',
  '1_e5',
  '1e400',
  '-1e400',
  '4e-400',
  '',
  ' 0.5',
  '0.5 ',
  '50%',
  '0,5',
  '.',
  'e5',
  '1e',
  '0b1',
  '0o7',
  '½',
];
const BOOLS = [
  '1',
  't',
  'T',
  'TRUE',
  'true',
  'True',
  '0',
  'f',
  'F',
  'FALSE',
  'false',
  'False',
  'yes',
  'on',
  'tRUE',
  '',
  ' true',
];
const DURATIONS = [
  '24h',
  '1h30m',
  '86400s',
  '1.5h',
  '.5s',
  '5.s',
  '-2m',
  '+3s',
  '0',
  '-0',
  '1000us',
  '1000µs',
  '1000μs',
  '1000000ns',
  '86400',
  '1d',
  '24H',
  '1h30',
  '1h 30m',
  ' 24h',
  '',
  '-',
  '.',
  'h',
  '3000000h',
  '2562047h',
  '2562048h',
  '1.0000000001s',
];

interface GoAnswer {
  readonly ok: boolean;
  readonly value: string;
}

/** strconv.FormatFloat's text as a number: it spells infinities +Inf and -Inf. */
function goFloat(text: string): number {
  return text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : Number(text);
}

let answers: GoAnswer[];
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'go-parsers-'));
  await writeFile(join(dir, 'main.go'), GO_PROGRAM);
  const questions = [
    ...FLOATS.map((text) => ({ Kind: 'float', Text: text })),
    ...BOOLS.map((text) => ({ Kind: 'bool', Text: text })),
    ...DURATIONS.map((text) => ({ Kind: 'duration', Text: text })),
  ];
  const child = run('go', ['run', 'main.go'], { cwd: dir, env: { ...process.env, GO111MODULE: 'off' } });
  child.child.stdin?.end(questions.map((question) => JSON.stringify(question)).join('\n'));
  answers = JSON.parse((await child).stdout);
  expect(answers).toHaveLength(questions.length);
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("meshtrust's Go value parsers agree with Go's", () => {
  it('strconv.ParseFloat: the same texts refused, the same float64 for the rest', () => {
    // Act
    const ours = FLOATS.map((text) => parseGoFloat(text));
    // Assess
    const go = answers
      .slice(0, FLOATS.length)
      .map((answer) => (answer.ok ? goFloat(answer.value) : undefined));
    expect(FLOATS.map((text, i) => [text, ours[i]])).toEqual(FLOATS.map((text, i) => [text, go[i]]));
  });

  it('strconv.ParseBool: the same spellings taken, the same value', () => {
    // Act
    const ours = BOOLS.map((text) => parseGoBool(text));
    // Assess
    const go = answers
      .slice(FLOATS.length, FLOATS.length + BOOLS.length)
      .map((answer) => (answer.ok ? answer.value === 'true' : undefined));
    expect(BOOLS.map((text, i) => [text, ours[i]])).toEqual(BOOLS.map((text, i) => [text, go[i]]));
  });

  it('time.ParseDuration: the same texts refused, the same length for the rest', () => {
    // Act
    const ours = DURATIONS.map((text) => parseGoDuration(text));
    // Assess
    const go = answers
      .slice(FLOATS.length + BOOLS.length)
      .map((answer) => (answer.ok ? Number(answer.value) / 1e6 : undefined));
    expect(DURATIONS.map((text, i) => [text, ours[i] === undefined])).toEqual(
      DURATIONS.map((text, i) => [text, go[i] === undefined]),
    );
    for (const [i, text] of DURATIONS.entries()) {
      if (go[i] !== undefined) expect([text, ours[i]]).toEqual([text, expect.closeTo(go[i] as number, 6)]);
    }
  });
});
