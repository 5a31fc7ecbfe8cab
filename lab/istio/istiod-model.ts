// One lab cluster's istiod, reduced to what a root rotation touches (DESIGN.md section 1): it watches the
// plug-in CA secret `istio-system/cacerts`, takes a new one only when istiod would (four keys, no
// tls.crt/tls.key override, a chain that verifies, a matching key, valid dates, and a root set that is a
// superset or subset of the current one), and otherwise keeps its CA and says nothing to the writer.
// It publishes the root set to every namespace as ConfigMap `istio-ca-root-cert` after a push delay, and
// gives every injected pod a short-lived SPIFFE certificate from the then-current intermediate,
// renewed at a fraction of its life. Real timers only: the prober's handshakes depend on real time.
import type * as X509 from '@peculiar/x509';
import {
  CACERTS_FORBIDDEN_KEYS,
  CACERTS_KEYS,
  type CacertsKey,
  checkRootTransition,
  encodePem,
  importPrivateKeyPem,
  nonCompliant,
  parseCertificatePem,
  parseCertificatesPem,
  TrustBundle,
  validateCacerts,
} from '../../lambdas/core/pki/index.js';
import { AlreadyExistsError, NotFoundError } from '../kube/errors.js';
import type { KubeObject, WatchEvent } from '../kube/kube-object.js';
import type { KubeObjectStore } from '../kube/object-store.js';
import { issueWorkloadCertificate, spiffeIdOf, type WorkloadSigner } from './workload-certificate.js';

export const ISTIO_SYSTEM_NAMESPACE = 'istio-system';
export const CACERTS_SECRET_NAME = 'cacerts';
export const ROOT_CERT_CONFIGMAP_NAME = 'istio-ca-root-cert';
export const ROOT_CERT_CONFIGMAP_KEY = 'root-cert.pem';

export interface IstiodModelOptions {
  readonly clusterName: string;
  readonly store: KubeObjectStore;
  /** @default 'cluster.local' */
  readonly trustDomain?: string;
  /** How long after istiod takes a new root set the namespaces and proxies have it. */
  readonly pushDelayMs: number;
  readonly workloadCertTtlMs: number;
  /** A workload certificate is renewed after this fraction of its life. @default 0.5 */
  readonly renewFraction?: number;
  /** The clock cacerts validity is judged against. @default () => new Date() */
  readonly now?: () => Date;
}

/** A cacerts update istiod refused, silently as the real one does. */
export interface CacertsRejection {
  readonly at: Date;
  /** The rules that failed, e.g. `cacerts-chain-verifies`, `root-transition-superset-or-subset`. */
  readonly rules: readonly string[];
  readonly reason: string;
  /** The resourceVersion of the refused Secret. */
  readonly resourceVersion: string;
}

/** The CA istiod signs with, public parts only. */
export interface IstiodCaState {
  readonly caCertPem: string;
  readonly certChainPem: string;
  readonly rootCertPem: string;
  readonly caCertFingerprint: string;
  readonly rootFingerprints: readonly string[];
  /** The resourceVersion of the cacerts Secret this CA came from. */
  readonly resourceVersion: string;
  readonly acceptedAt: Date;
}

/** What a pod's sidecar holds: its chain and key, and the roots it trusts. */
export interface WorkloadIdentity {
  readonly cluster: string;
  readonly namespace: string;
  readonly podName: string;
  readonly spiffeId: string;
  /** The leaf, then the intermediate(s); no root, as istiod sends it. */
  readonly certChainPem: string;
  /** PKCS#8 PEM; in memory only. */
  readonly keyPem: string;
  readonly trustBundlePem: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Fingerprint of the intermediate that signed the leaf. */
  readonly issuerFingerprint: string;
  /** Fingerprint of the root the leaf chains to (the last certificate of cert-chain.pem). */
  readonly rootFingerprint: string;
}

export type WorkloadIdentitySummary = Omit<WorkloadIdentity, 'keyPem' | 'certChainPem' | 'trustBundlePem'>;

export interface IstiodModel {
  readonly clusterName: string;
  readonly trustDomain: string;
  /** The CA in use; undefined until a valid cacerts was seen. */
  current(): IstiodCaState | undefined;
  /** The root set namespaces and proxies have now (istiod's, as it was one push delay ago). */
  pushedRootCertPem(): string | undefined;
  rejections(): readonly CacertsRejection[];
  readonly acceptedUpdates: number;
  identityOf(namespace: string, podName: string): WorkloadIdentity | undefined;
  /** Every pod holding an identity, without keys. */
  identities(): WorkloadIdentitySummary[];
  /** Resolves when every cacerts change and certificate issuance started so far has been handled. */
  idle(): Promise<void>;
  stop(): void;
}

interface HeldCertificate {
  readonly spiffeId: string;
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly issuerFingerprint: string;
  readonly rootFingerprint: string;
}

interface Ca {
  readonly state: IstiodCaState;
  readonly roots: TrustBundle;
  readonly signer: WorkloadSigner;
  /** cert-chain.pem without the roots: what follows the leaf in a workload's chain. */
  readonly chainAboveLeafPem: string;
  readonly chainRootFingerprint: string;
}

export async function startIstiodModel(options: IstiodModelOptions): Promise<IstiodModel> {
  const model = new Istiod(options);
  await model.start();
  return model;
}

class Istiod implements IstiodModel {
  readonly clusterName: string;
  readonly trustDomain: string;
  acceptedUpdates = 0;
  private readonly store: KubeObjectStore;
  private readonly renewFraction: number;
  private readonly now: () => Date;
  private ca: Ca | undefined;
  private pushedRoots: string | undefined;
  private readonly rejected: CacertsRejection[] = [];
  private readonly certificates = new Map<string, HeldCertificate>();
  /** Pods waiting for a certificate (no CA yet, or issuance in flight), by key; value = pod uid. */
  private readonly pendingPods = new Map<string, string>();
  private readonly renewTimers = new Map<string, NodeJS.Timeout>();
  private readonly pushTimers = new Set<NodeJS.Timeout>();
  private readonly unwatch: (() => void)[] = [];
  private work: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: IstiodModelOptions) {
    if (!(options.pushDelayMs >= 0) || !(options.workloadCertTtlMs > 0)) {
      throw new RangeError(
        `istiod model of ${options.clusterName}: pushDelayMs must be >= 0 and workloadCertTtlMs > 0, got ${options.pushDelayMs} and ${options.workloadCertTtlMs}`,
      );
    }
    this.clusterName = options.clusterName;
    this.store = options.store;
    this.trustDomain = options.trustDomain ?? 'cluster.local';
    this.renewFraction = options.renewFraction ?? 0.5;
    if (!(this.renewFraction > 0 && this.renewFraction < 1)) {
      throw new RangeError(`renewFraction must be between 0 and 1 (exclusive), got ${this.renewFraction}`);
    }
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    this.unwatch.push(
      this.store.watch(
        { kind: 'Secret', namespace: ISTIO_SYSTEM_NAMESPACE, name: CACERTS_SECRET_NAME },
        (event) => {
          if (event.type !== 'DELETED') this.enqueue(() => this.onCacerts(event.object));
        },
      ),
      this.store.watch({ kind: 'Namespace' }, (event) => this.onNamespace(event)),
      this.store.watch({ kind: 'ConfigMap', name: ROOT_CERT_CONFIGMAP_NAME }, (event) =>
        this.onRootConfigMap(event),
      ),
      this.store.watch({ kind: 'Pod' }, (event) => this.onPod(event)),
    );
    const existing = this.store.tryGet('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
    if (existing) this.enqueue(() => this.onCacerts(existing));
    for (const pod of this.store.list('Pod').items) this.onPod({ type: 'ADDED', object: pod });
    await this.idle();
  }

  current(): IstiodCaState | undefined {
    return this.ca?.state;
  }

  pushedRootCertPem(): string | undefined {
    return this.pushedRoots;
  }

  rejections(): readonly CacertsRejection[] {
    return [...this.rejected];
  }

  identityOf(namespace: string, podName: string): WorkloadIdentity | undefined {
    const held = this.certificates.get(podKey(namespace, podName));
    if (!held || this.pushedRoots === undefined) return undefined;
    return {
      cluster: this.clusterName,
      namespace,
      podName,
      ...held,
      trustBundlePem: this.pushedRoots,
    };
  }

  identities(): WorkloadIdentitySummary[] {
    return [...this.certificates.entries()].map(([key, held]) => {
      const [namespace, podName] = key.split('/');
      const { keyPem: _key, certChainPem: _chain, ...rest } = held;
      return { cluster: this.clusterName, namespace, podName, ...rest };
    });
  }

  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.work;
      await seen;
    } while (seen !== this.work);
  }

  stop(): void {
    this.stopped = true;
    for (const stop of this.unwatch.splice(0)) stop();
    for (const timer of this.renewTimers.values()) clearTimeout(timer);
    this.renewTimers.clear();
    for (const timer of this.pushTimers) clearTimeout(timer);
    this.pushTimers.clear();
    this.pendingPods.clear();
  }

  // One thing at a time, in order: a cacerts change is fully judged before the next one or before a
  // certificate is signed, as istiod's single CA reload loop does.
  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (error) {
        console.error(`lab istiod ${this.clusterName}: a task failed`, error);
      }
    });
  }

  private async onCacerts(secret: KubeObject): Promise<void> {
    const resourceVersion = String(secret.metadata.resourceVersion ?? '');
    const reject = (rules: string[], reason: string) => {
      this.rejected.push({ at: new Date(), rules, reason, resourceVersion });
    };
    const data: Record<string, string> = secret.data ?? {};
    const overriding = Object.keys(data).filter((key) =>
      (CACERTS_FORBIDDEN_KEYS as readonly string[]).includes(key),
    );
    if (overriding.length > 0) {
      reject(
        ['cacerts-no-tls-override'],
        `cacerts holds ${overriding.join(' and ')}, which override the plug-in CA files; kept the current CA`,
      );
      return;
    }
    const files: Partial<Record<CacertsKey, string>> = {};
    for (const key of CACERTS_KEYS) {
      if (typeof data[key] === 'string') files[key] = Buffer.from(data[key], 'base64').toString('utf8');
    }
    const missing = CACERTS_KEYS.filter((key) => !files[key]?.trim());
    if (missing.length > 0) {
      reject(['cacerts-keys-present'], `cacerts lacks ${missing.join(', ')}; kept the current CA`);
      return;
    }
    const findings = nonCompliant(
      await validateCacerts(files, {
        now: this.now(),
        cluster: this.clusterName,
        extraKeys: Object.keys(data).filter((key) => !(CACERTS_KEYS as readonly string[]).includes(key)),
      }),
    );
    if (findings.length > 0) {
      reject(
        [...new Set(findings.map((finding) => finding.rule))],
        findings.map((finding) => finding.reason).join('; '),
      );
      return;
    }
    const roots = TrustBundle.parse(files['root-cert.pem'] as string);
    if (this.ca) {
      const transition = checkRootTransition(this.ca.roots, roots, { cluster: this.clusterName });
      if (transition.status !== 'compliant') {
        reject([transition.rule], transition.reason);
        return;
      }
    }
    this.accept(await this.loadCa(files as Record<CacertsKey, string>, roots, resourceVersion));
  }

  private async loadCa(
    files: Record<CacertsKey, string>,
    roots: TrustBundle,
    resourceVersion: string,
  ): Promise<Ca> {
    const caCert = parseCertificatePem(files['ca-cert.pem']);
    const chain = parseCertificatesPem(files['cert-chain.pem']);
    const rootFingerprints = new Set(roots.fingerprints());
    const aboveLeaf = chain.filter(
      (entry) => !rootFingerprints.has(entry.fingerprint) && !isSelfIssued(entry.certificate),
    );
    return {
      state: Object.freeze({
        caCertPem: files['ca-cert.pem'],
        certChainPem: files['cert-chain.pem'],
        rootCertPem: roots.toPem(),
        caCertFingerprint: caCert.fingerprint,
        rootFingerprints: Object.freeze(roots.fingerprints()),
        resourceVersion,
        acceptedAt: new Date(),
      }),
      roots,
      signer: {
        certificate: caCert.certificate,
        privateKey: await importPrivateKeyPem(files['ca-key.pem'], {
          cluster: this.clusterName,
          file: 'ca-key.pem',
        }),
      },
      chainAboveLeafPem: aboveLeaf.map((entry) => encodePem('CERTIFICATE', entry.der)).join(''),
      chainRootFingerprint: chain[chain.length - 1].fingerprint,
    };
  }

  private accept(ca: Ca): void {
    const rootsChanged = !this.ca?.roots.equals(ca.roots);
    const first = !this.ca;
    this.ca = ca;
    this.acceptedUpdates += 1;
    if (rootsChanged) {
      const rootPem = ca.roots.toPem();
      // The first CA is loaded at istiod start, before any proxy connects: no push to wait for.
      if (first) this.push(rootPem);
      else {
        const timer = setTimeout(() => {
          this.pushTimers.delete(timer);
          if (!this.stopped) this.push(rootPem);
        }, this.options.pushDelayMs);
        this.pushTimers.add(timer);
      }
    }
    for (const [key, uid] of this.pendingPods) this.scheduleIssue(key, uid);
  }

  private push(rootPem: string): void {
    this.pushedRoots = rootPem;
    for (const namespace of this.store.list('Namespace').items)
      this.publishRootConfigMap(namespace.metadata.name);
  }

  private publishRootConfigMap(namespace: string): void {
    if (this.pushedRoots === undefined) return;
    const data = { [ROOT_CERT_CONFIGMAP_KEY]: this.pushedRoots };
    const existing = this.store.tryGet('ConfigMap', namespace, ROOT_CERT_CONFIGMAP_NAME);
    try {
      if (!existing) {
        this.store.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CERT_CONFIGMAP_NAME, namespace, labels: { 'istio.io/config': 'true' } },
          data,
        });
      } else if (existing.data?.[ROOT_CERT_CONFIGMAP_KEY] !== this.pushedRoots) {
        this.store.update({
          ...existing,
          data,
          metadata: { ...existing.metadata, resourceVersion: undefined },
        });
      }
    } catch (error) {
      // A namespace deleted meanwhile, or a racing writer: the next event reconciles again.
      if (!(error instanceof NotFoundError || error instanceof AlreadyExistsError)) throw error;
    }
  }

  private onNamespace(event: WatchEvent): void {
    if (this.stopped || event.type === 'DELETED') return;
    if (event.type === 'ADDED') this.publishRootConfigMap(event.object.metadata.name);
  }

  // istiod's namespace controller rewrites the ConfigMap when someone changes or deletes it.
  private onRootConfigMap(event: WatchEvent): void {
    if (this.stopped) return;
    const namespace = event.object.metadata.namespace as string;
    if (event.type === 'DELETED') {
      if (this.store.tryGet('Namespace', undefined, namespace)) this.publishRootConfigMap(namespace);
      return;
    }
    if (event.object.data?.[ROOT_CERT_CONFIGMAP_KEY] !== this.pushedRoots)
      this.publishRootConfigMap(namespace);
  }

  private onPod(event: WatchEvent): void {
    if (this.stopped) return;
    const pod = event.object;
    const key = podKey(pod.metadata.namespace as string, pod.metadata.name);
    if (event.type === 'DELETED') {
      this.forget(key);
      return;
    }
    if (this.certificates.has(key) || this.pendingPods.has(key) || !this.isInjected(pod)) return;
    const uid = String(pod.metadata.uid ?? '');
    this.pendingPods.set(key, uid);
    if (this.ca) this.scheduleIssue(key, uid);
  }

  private isInjected(pod: KubeObject): boolean {
    if (pod.metadata.labels?.['sidecar.istio.io/inject'] === 'false') return false;
    const namespace = this.store.tryGet('Namespace', undefined, pod.metadata.namespace as string);
    const labels = namespace?.metadata.labels ?? {};
    return labels['istio-injection'] === 'enabled' || labels['istio.io/rev'] !== undefined;
  }

  private forget(key: string): void {
    this.certificates.delete(key);
    this.pendingPods.delete(key);
    const timer = this.renewTimers.get(key);
    if (timer) clearTimeout(timer);
    this.renewTimers.delete(key);
  }

  private scheduleIssue(key: string, uid: string): void {
    this.enqueue(() => this.issue(key, uid));
  }

  private async issue(key: string, uid: string): Promise<void> {
    const [namespace, podName] = key.split('/');
    const pod = this.store.tryGet('Pod', namespace, podName);
    // The pod is gone or was replaced by a namesake (StatefulSet): the namesake has its own entry.
    if (!pod || String(pod.metadata.uid ?? '') !== uid || !this.ca) return;
    const ca = this.ca;
    const spiffeId = spiffeIdOf(this.trustDomain, namespace, pod.spec?.serviceAccountName ?? 'default');
    const issuedAt = new Date();
    const issued = await issueWorkloadCertificate({
      signer: ca.signer,
      spiffeId,
      issuedAt,
      ttlMs: this.options.workloadCertTtlMs,
    });
    if (this.stopped || this.store.tryGet('Pod', namespace, podName)?.metadata.uid !== pod.metadata.uid)
      return;
    this.pendingPods.delete(key);
    this.certificates.set(key, {
      spiffeId,
      certChainPem: issued.certificatePem + ca.chainAboveLeafPem,
      keyPem: issued.privateKeyPem,
      issuedAt,
      expiresAt: issued.expiresAt,
      issuerFingerprint: ca.state.caCertFingerprint,
      rootFingerprint: ca.chainRootFingerprint,
    });
    const previous = this.renewTimers.get(key);
    if (previous) clearTimeout(previous);
    const timer = setTimeout(() => {
      this.renewTimers.delete(key);
      if (!this.stopped) this.scheduleIssue(key, uid);
    }, this.options.workloadCertTtlMs * this.renewFraction);
    this.renewTimers.set(key, timer);
  }
}

function podKey(namespace: string, podName: string): string {
  return `${namespace}/${podName}`;
}

function isSelfIssued(certificate: X509.X509Certificate): boolean {
  return Buffer.from(certificate.subjectName.toArrayBuffer()).equals(
    Buffer.from(certificate.issuerName.toArrayBuffer()),
  );
}
