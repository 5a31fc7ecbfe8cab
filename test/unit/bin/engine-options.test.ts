import { UsageError } from '../../../bin/cli/cli-errors.js';
import {
  type EngineCommandOptions,
  modelIstioVersion,
  refuseIstioVersionBeyondEngine,
} from '../../../bin/cli/engine-options.js';

/** What commander gives both commands when no engine flag is set. */
const DEFAULTS: EngineCommandOptions = {
  engine: 'model',
  istiodEnv: {},
  proxyEnv: {},
  volumeSyncDelay: 2,
  istiodReplicas: 1,
  waitForLab: 0,
};

describe('modelIstioVersion', () => {
  it("leaves the lab's default when --istio-version is not given", () => {
    // Act
    const version = modelIstioVersion(DEFAULTS);

    // Assess
    expect(version).toBeUndefined();
  });

  it('takes the minor version given, and latest as the newest the istiod model states', () => {
    // Act
    const versions = [
      modelIstioVersion({ ...DEFAULTS, istioVersion: '1.22' }),
      modelIstioVersion({ ...DEFAULTS, istioVersion: 'latest' }),
    ];

    // Assess
    expect(versions).toEqual(['1.22', '1.31']);
  });
});

describe('refuseIstioVersionBeyondEngine', () => {
  it('refuses a minor version on the istio engine, saying why and what runs it', () => {
    // Act
    const refuse = () =>
      refuseIstioVersionBeyondEngine({ ...DEFAULTS, engine: 'istio', istioVersion: '1.29' });

    // Assess
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(
      /--istio-version 1\.29: the istio engine runs only the Istio that lab\/go\/go\.mod pins .*no commit before the 1\.30 branch.*drop --engine istio/,
    );
  });

  it('lets the istio engine run latest or no version, and the model engine any version it states', () => {
    // Act
    const refusals = [
      { ...DEFAULTS, engine: 'istio' as const, istioVersion: 'latest' as const },
      { ...DEFAULTS, engine: 'istio' as const },
      { ...DEFAULTS, istioVersion: '1.20' as const },
    ].map((options) => {
      try {
        refuseIstioVersionBeyondEngine(options);
        return undefined;
      } catch (error) {
        return error;
      }
    });

    // Assess
    expect(refusals).toEqual([undefined, undefined, undefined]);
  });
});
