// The matrix's cases on the istio engine (real kube-apiserver, etcd, istiod and pilot-agent per
// cluster: docs/lab.md, "The istio engine"), where real Istio can change the outcome: the baseline,
// every permanent failure that rolls back (real istiod loads each restored cacerts and real proxies
// must keep trusting their peers throughout), and every --fault the engine plays
// (rehearsal/fault-spec.ts istioEngineRefusal: not stuck of a StatefulSet or DaemonSet, which the
// istio lab does not run), the Kubernetes API's through a proxy in front of the real API server. Left
// out: failures before the first write or past the point of no return (nothing of Istio's is touched
// after them: the model's cases say the same), transient failures (Retry absorbs them before any cluster
// sees a difference), failures inside the rollback (the rollback's own steps; about 40 cases more at
// 3-4 minutes each) and kills (a killed run on an istio lab is not built). Each is its model case with
// `--engine istio`, id `istio/<model id>`. Pure.
import { istioEngineRefusal, parseFault } from '../rehearsal/fault-spec.js';
import type { CaseKind, ChaosCase } from './chaos-matrix.js';

export const ISTIO_CASE_PREFIX = 'istio/';
const ISTIO_KINDS: readonly CaseKind[] = ['baseline', 'fail-at', 'fault'];

export function isIstioCase(chaosCase: Pick<ChaosCase, 'id'>): boolean {
  return chaosCase.id.startsWith(ISTIO_CASE_PREFIX);
}

/** The istio engine's variants of the model engine's `cases`, in their order. */
export function istioEngineCases(cases: readonly ChaosCase[]): ChaosCase[] {
  return cases
    .filter(
      (chaosCase) =>
        ISTIO_KINDS.includes(chaosCase.kind) &&
        (chaosCase.kind !== 'fail-at' || chaosCase.expected.result === 'ROLLED_BACK') &&
        playsOnIstio(chaosCase),
    )
    .map((chaosCase) => ({
      ...chaosCase,
      id: `${ISTIO_CASE_PREFIX}${chaosCase.id}`,
      flags: ['--engine', 'istio', ...chaosCase.flags],
    }));
}

/** Every --fault of the case is one the istio engine plays. */
function playsOnIstio(chaosCase: ChaosCase): boolean {
  return chaosCase.flags.every(
    (flag, i) => chaosCase.flags[i - 1] !== '--fault' || istioEngineRefusal(parseFault(flag)) === undefined,
  );
}
