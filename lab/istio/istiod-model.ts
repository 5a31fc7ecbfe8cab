// One lab cluster's istiod, reduced to what a root rotation touches (DESIGN.md section 1): it watches the
// plug-in CA secret `istio-system/cacerts`, takes a new one only when a real istiod of the configured
// Istio version would (istiod-cacerts-rules.ts: the model's own statement of istiod's rules, independent
// of the product's validators), and otherwise keeps its CA and says nothing to the writer.
// It publishes root-cert.pem, byte for byte as istiod does, to every namespace as ConfigMap
// `istio-ca-root-cert` after a push delay, and gives every injected pod a short-lived SPIFFE certificate
// from the then-current intermediate, renewed at a fraction of its life (with pilot-agent's jitter).
// A proxy trusts what pilot-agent holds (security/pkg/nodeagent/cache/secretcache.go): the root file that
// came with its last certificate (the CSR response ends with istiod's root-cert.pem), and, only with PCDS
// (PROXY_CONFIG_XDS_AGENT), the trust bundle istiod pushes, merged with it; a pushed bundle that differs
// from the last one also makes the agent drop its certificate and ask for a new one at once
// (UpdateConfigTrustBundle). Without PCDS a proxy learns new roots only when it renews.
// Real timers only: the prober's handshakes depend on real time.

import { type KeyObject, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { x509 } from '../../lambdas/core/pki/x509.js';
import { AlreadyExistsError, NotFoundError } from '../kube/errors.js';
import type { KubeObject, WatchEvent } from '../kube/kube-object.js';
import type { KubeObjectStore } from '../kube/object-store.js';
import { hasSidecar } from '../workloads/sidecar-injection.js';
import {
  DEFAULT_ISTIO_VERSION,
  fingerprintOf,
  type IstioVersion,
  isIstioVersion,
  judgeCacertsAtStart,
  judgeCacertsChange,
  type LoadedCa,
  type MountedCacerts,
} from './istiod-cacerts-rules.js';
import { NO_RENEWALS, type RenewalTimeliness, withRenewal } from './renewal-timeliness.js';
import { issueWorkloadCertificate, spiffeIdOf, type WorkloadSigner } from './workload-certificate.js';

export const ISTIO_SYSTEM_NAMESPACE = 'istio-system';
export const CACERTS_SECRET_NAME = 'cacerts';
export const ROOT_CERT_CONFIGMAP_NAME = 'istio-ca-root-cert';
export const ROOT_CERT_CONFIGMAP_KEY = 'root-cert.pem';

export interface IstiodModelOptions {
  readonly clusterName: string;
  readonly store: KubeObjectStore;
  /**
   * Where istiod reads istio-system/cacerts. A remote cluster's pods are signed by its primary's
   * istiod, which also publishes istio-ca-root-cert into the remote's namespaces: the remote's model
   * watches the remote's pods and namespaces (store) and the primary's cacerts. @default store
   */
  readonly caStore?: KubeObjectStore;
  /** @default 'cluster.local' */
  readonly trustDomain?: string;
  /** How long after istiod takes a new root set the namespaces and proxies have it. */
  readonly pushDelayMs: number;
  readonly workloadCertTtlMs: number;
  /** A workload certificate is renewed after this fraction of its life. @default 0.5 */
  readonly renewFraction?: number;
  /**
   * pilot-agent's SECRET_GRACE_PERIOD_RATIO_JITTER (secretcache.go, rotateTime): each renewal at
   * renewFraction plus or minus up to this fraction of the life, uniformly. @default 0
   */
  readonly renewalJitter?: number;
  /** Draws the jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** The clock cacerts validity is judged against. @default () => new Date() */
  readonly now?: () => Date;
  /** The Istio minor version whose root-cert.pem rule istiod applies (bytes up to 1.29, sets from 1.30). @default '1.29' */
  readonly istioVersion?: IstioVersion;
  /** ISTIO_MULTIROOT_MESH: without it istiod takes no root-cert.pem change at all. @default true */
  readonly multiRootMesh?: boolean;
  /**
   * Asked for each cacerts change after the first (the rehearsal's --fault kube:CLUSTER:istiod-drop):
   * true ignores it, keeping the current CA as istiod does when it refuses a change. Not counted in
   * rejections(): those are refusals by Istio's rules, which a rotation must never provoke.
   */
  readonly dropsCacertsUpdate?: () => boolean;
  /**
   * How long after a cacerts change istiod sees the files: the kubelet's volume sync. istiod then reads
   * the Secret as it is by then (a change overtaken by another is never seen). @default 0
   */
  readonly volumeSyncDelayMs?: number;
  /**
   * PCDS (the mesh's proxy metadata PROXY_CONFIG_XDS_AGENT=true): istiod's pushes reach the proxies'
   * trust bundles, and each changed bundle makes them re-sign. Off, as Istio ships, a proxy learns new
   * roots only with its next certificate. @default false
   */
  readonly pcds?: boolean;
}

/** A cacerts update istiod refused, silently as the real one does. */
export interface CacertsRejection {
  readonly at: Date;
  /** The rule that failed (istiod stops at the first), e.g. `istiod-root-bytes-contained`. */
  readonly rules: readonly string[];
  readonly reason: string;
  /** The resourceVersion of the refused Secret. */
  readonly resourceVersion: string;
}

/** The CA istiod signs with, public parts only. */
export interface IstiodCaState {
  /** Which files istiod read: the plug-in files, or tls.crt/tls.key/ca.crt when the secret has tls.crt. */
  readonly layout: LoadedCa['layout'];
  readonly caCertPem: string;
  readonly certChainPem: string;
  /** The root file as istiod holds and publishes it, byte for byte. */
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
  readonly istioVersion: IstioVersion;
  readonly multiRootMesh: boolean;
  readonly pcds: boolean;
  /** The CA in use; undefined until a valid cacerts was seen. */
  current(): IstiodCaState | undefined;
  /** The root set namespaces and proxies have now (istiod's, as it was one push delay ago). */
  pushedRootCertPem(): string | undefined;
  rejections(): readonly CacertsRejection[];
  readonly acceptedUpdates: number;
  identityOf(namespace: string, podName: string): WorkloadIdentity | undefined;
  /** Pods whose proxy does not trust exactly istiod's current root set yet (a renewal or push away). */
  podsOnStaleRoots(): string[];
  /** Every pod holding an identity, without keys. */
  identities(): WorkloadIdentitySummary[];
  /** Workload certificates signed since istiod started: first ones, renewals and PCDS re-signs. */
  signedCertificates(): number;
  /** How late its renewals came and how close to expiry (renewal-timeliness.ts). */
  renewalTimeliness(): RenewalTimeliness;
  /** Resolves when every cacerts change and certificate issuance started so far has been handled. */
  idle(): Promise<void>;
  stop(): void;
}

interface HeldCertificate {
  /** The pod the certificate was issued to (a namesake pod gets its own). */
  readonly uid: string;
  readonly spiffeId: string;
  readonly certChainPem: string;
  readonly keyPem: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly issuerFingerprint: string;
  readonly rootFingerprint: string;
  /** The root file that came with the certificate: istiod's root-cert.pem when it signed. */
  readonly issuedRootsPem: string;
}

interface Ca {
  readonly state: IstiodCaState;
  /** The root file's bytes: what the next cacerts is compared with. */
  readonly rootCertBytes: Buffer;
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
  readonly istioVersion: IstioVersion;
  readonly multiRootMesh: boolean;
  readonly pcds: boolean;
  acceptedUpdates = 0;
  private readonly store: KubeObjectStore;
  private readonly caStore: KubeObjectStore;
  private readonly renewFraction: number;
  private readonly renewalJitter: number;
  private readonly random: () => number;
  private signed = 0;
  private readonly now: () => Date;
  private ca: Ca | undefined;
  private pushedRoots: string | undefined;
  /** With PCDS: the trust bundle the proxies last took from a push (pilot-agent's configTrustBundle). */
  private configTrustBundle: string | undefined;
  private readonly rejected: CacertsRejection[] = [];
  private readonly certificates = new Map<string, HeldCertificate>();
  /** Pods waiting for a certificate (no CA yet, or issuance in flight), by key; value = pod uid. */
  private readonly pendingPods = new Map<string, string>();
  private readonly renewTimers = new Map<string, NodeJS.Timeout>();
  /** Renewals whose time came and whose new certificate is not held yet: when due, the old notAfter. */
  private readonly renewalsDue = new Map<string, { dueAtMs: number; oldExpiresAtMs: number }>();
  private timeliness: RenewalTimeliness = NO_RENEWALS;
  private readonly pushTimers = new Set<NodeJS.Timeout>();
  private readonly unwatch: (() => void)[] = [];
  /** The volume sync that will bring the latest cacerts change to istiod's files. */
  private volumeSync: { timer: NodeJS.Timeout; done: Promise<void>; finish(): void } | undefined;
  /** The Secret data last mounted (keys and base64 values): a change of metadata alone mounts nothing. */
  private mountedData: string | undefined;
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
    this.caStore = options.caStore ?? options.store;
    this.trustDomain = options.trustDomain ?? 'cluster.local';
    this.renewFraction = options.renewFraction ?? 0.5;
    if (!(this.renewFraction > 0 && this.renewFraction < 1)) {
      throw new RangeError(`renewFraction must be between 0 and 1 (exclusive), got ${this.renewFraction}`);
    }
    this.renewalJitter = options.renewalJitter ?? 0;
    if (
      !(
        this.renewalJitter >= 0 &&
        this.renewFraction - this.renewalJitter > 0 &&
        this.renewFraction + this.renewalJitter < 1
      )
    ) {
      throw new RangeError(
        `renewalJitter must keep renewFraction +- renewalJitter inside 0 and 1 (exclusive), got ${this.renewalJitter} with renewFraction ${this.renewFraction}`,
      );
    }
    this.random = options.random ?? Math.random;
    this.now = options.now ?? (() => new Date());
    this.istioVersion = options.istioVersion ?? DEFAULT_ISTIO_VERSION;
    if (!isIstioVersion(this.istioVersion)) {
      throw new RangeError(
        `istiod model of ${options.clusterName}: unknown istioVersion ${JSON.stringify(this.istioVersion)}`,
      );
    }
    this.multiRootMesh = options.multiRootMesh ?? true;
    this.pcds = options.pcds ?? false;
  }

  async start(): Promise<void> {
    this.unwatch.push(
      this.caStore.watch(
        { kind: 'Secret', namespace: ISTIO_SYSTEM_NAMESPACE, name: CACERTS_SECRET_NAME },
        (event) => {
          if (event.type !== 'DELETED') this.onCacertsChanged(event.object);
        },
      ),
      this.store.watch({ kind: 'Namespace' }, (event) => this.onNamespace(event)),
      this.store.watch({ kind: 'ConfigMap', name: ROOT_CERT_CONFIGMAP_NAME }, (event) =>
        this.onRootConfigMap(event),
      ),
      this.store.watch({ kind: 'Pod' }, (event) => this.onPod(event)),
    );
    const existing = this.caStore.tryGet('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
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
    if (!held) return undefined;
    const { uid: _uid, issuedRootsPem, ...identity } = held;
    return {
      cluster: this.clusterName,
      namespace,
      podName,
      ...identity,
      trustBundlePem:
        this.configTrustBundle === undefined
          ? issuedRootsPem
          : mergeTrustAnchors(this.configTrustBundle, issuedRootsPem),
    };
  }

  podsOnStaleRoots(): string[] {
    const current = this.ca?.state.rootCertPem;
    if (current === undefined) return [];
    const want = [...new Set(pemBodies(current))].sort().join();
    return [...this.certificates.keys()].filter((key) => {
      const [namespace, podName] = key.split('/');
      const trusted = this.identityOf(namespace, podName)?.trustBundlePem ?? '';
      return [...new Set(pemBodies(trusted))].sort().join() !== want;
    });
  }

  identities(): WorkloadIdentitySummary[] {
    return [...this.certificates.entries()].map(([key, held]) => {
      const [namespace, podName] = key.split('/');
      const { keyPem: _key, certChainPem: _chain, uid: _uid, issuedRootsPem: _roots, ...rest } = held;
      return { cluster: this.clusterName, namespace, podName, ...rest };
    });
  }

  signedCertificates(): number {
    return this.signed;
  }

  renewalTimeliness(): RenewalTimeliness {
    return this.timeliness;
  }

  async idle(): Promise<void> {
    await this.volumeSync?.done;
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
    if (this.volumeSync !== undefined) {
      clearTimeout(this.volumeSync.timer);
      this.volumeSync.finish();
      this.volumeSync = undefined;
    }
  }

  // One thing at a time, in order: a cacerts change is fully judged before the next one or before a
  // certificate is signed, as istiod's single CA reload loop does.
  /**
   * A cacerts change reaches istiod's files a volume sync later (at once with no delay): one pending
   * sync at a time, reading the Secret as it is when the sync comes, as kubelet's atomic writer does.
   */
  private onCacertsChanged(secret: KubeObject): void {
    const delay = this.options.volumeSyncDelayMs ?? 0;
    if (delay === 0) {
      this.enqueue(() => this.onCacerts(secret));
      return;
    }
    if (this.volumeSync !== undefined) return;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const timer = setTimeout(() => {
      this.volumeSync = undefined;
      const latest = this.caStore.tryGet('Secret', ISTIO_SYSTEM_NAMESPACE, CACERTS_SECRET_NAME);
      if (latest) this.enqueue(() => this.onCacerts(latest));
      finish();
    }, delay);
    this.volumeSync = { timer, done, finish };
  }

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

  // istiod reads the secret as a mounted folder: one file per data key, raw bytes. The first CA is
  // istiod starting; every later change is its file watcher reloading (istiod-cacerts-rules.ts).
  // kubelet rewrites the mounted files only when the Secret's data changes: an update of its metadata
  // alone (the rollback's meshtrust.io/rolled-back fence) reaches no file, so the watcher sees nothing.
  private async onCacerts(secret: KubeObject): Promise<void> {
    const data = JSON.stringify(Object.entries(secret.data ?? {}).sort(([a], [b]) => a.localeCompare(b)));
    if (data === this.mountedData) return;
    this.mountedData = data;
    if (this.ca !== undefined && this.options.dropsCacertsUpdate?.() === true) return;
    const resourceVersion = String(secret.metadata.resourceVersion ?? '');
    const folder: MountedCacerts = Object.fromEntries(
      Object.entries((secret.data ?? {}) as Record<string, string>).map(([key, value]) => [
        key,
        Buffer.from(value, 'base64'),
      ]),
    );
    const verdict = this.ca
      ? judgeCacertsChange(
          this.ca.rootCertBytes,
          folder,
          { istioVersion: this.istioVersion, multiRootMesh: this.multiRootMesh },
          this.now(),
        )
      : judgeCacertsAtStart(folder, this.now());
    if (!verdict.accepted) {
      this.rejected.push({ at: new Date(), rules: [verdict.rule], reason: verdict.reason, resourceVersion });
      return;
    }
    this.accept(await this.loadCa(verdict.ca, resourceVersion));
  }

  private async loadCa(loaded: LoadedCa, resourceVersion: string): Promise<Ca> {
    const rootKeys = new Set(loaded.rootDers.map((der) => der.toString('hex')));
    const aboveLeaf = loaded.chainDers.filter(
      (der) => !rootKeys.has(der.toString('hex')) && !isSelfIssued(new x509.X509Certificate(der)),
    );
    const signingCertificate = new x509.X509Certificate(loaded.signingCertDer);
    return {
      state: Object.freeze({
        layout: loaded.layout,
        caCertPem: loaded.signingCertText,
        certChainPem: loaded.certChainText,
        rootCertPem: loaded.rootCertBytes.toString('utf8'),
        caCertFingerprint: fingerprintOf(loaded.signingCertDer),
        rootFingerprints: Object.freeze(loaded.rootDers.map(fingerprintOf)),
        resourceVersion,
        acceptedAt: new Date(),
      }),
      rootCertBytes: loaded.rootCertBytes,
      signer: { certificate: signingCertificate, privateKey: await signingCryptoKey(loaded.signingKey) },
      chainAboveLeafPem: aboveLeaf.map(certificatePem).join(''),
      chainRootFingerprint: fingerprintOf(loaded.pathDers[loaded.pathDers.length - 1]),
    };
  }

  // istiod republishes its root file after every load; the ConfigMaps change only when its bytes do.
  private accept(ca: Ca): void {
    const rootsChanged = !this.ca?.rootCertBytes.equals(ca.rootCertBytes);
    const first = !this.ca;
    this.ca = ca;
    this.acceptedUpdates += 1;
    if (rootsChanged) {
      // The first CA is loaded at istiod start, before any proxy connects: no push to wait for.
      if (first) this.push(ca.state.rootCertPem);
      else {
        // A push publishes the roots istiod holds when it fires, as istiod's namespace controller
        // reads its CA bundle then: a push queued for roots replaced meanwhile publishes the newer.
        const timer = setTimeout(() => {
          this.pushTimers.delete(timer);
          if (!this.stopped && this.ca) this.push(this.ca.state.rootCertPem);
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
    if (this.pcds && this.configTrustBundle !== rootPem) this.pushTrustBundle(rootPem);
  }

  /** PCDS: every proxy takes the pushed bundle, drops its certificate and asks for a new one. */
  private pushTrustBundle(rootPem: string): void {
    const first = this.configTrustBundle === undefined;
    this.configTrustBundle = rootPem;
    if (first) return;
    for (const [key, held] of this.certificates) this.scheduleIssue(key, held.uid);
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

  /** istiod signs for the proxies that ask: pods the injector gave an istio-proxy. */
  private isInjected(pod: KubeObject): boolean {
    return hasSidecar(pod);
  }

  private forget(key: string): void {
    this.certificates.delete(key);
    this.pendingPods.delete(key);
    const timer = this.renewTimers.get(key);
    if (timer) clearTimeout(timer);
    this.renewTimers.delete(key);
    this.renewalsDue.delete(key);
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
    this.signed += 1;
    if (this.stopped || this.store.tryGet('Pod', namespace, podName)?.metadata.uid !== pod.metadata.uid)
      return;
    this.pendingPods.delete(key);
    const due = this.renewalsDue.get(key);
    if (due !== undefined) {
      this.renewalsDue.delete(key);
      this.timeliness = withRenewal(this.timeliness, { ...due, heldAtMs: Date.now() });
    }
    this.certificates.set(key, {
      uid,
      spiffeId,
      certChainPem: issued.certificatePem + ca.chainAboveLeafPem,
      keyPem: issued.privateKeyPem,
      issuedAt,
      expiresAt: issued.expiresAt,
      issuerFingerprint: ca.state.caCertFingerprint,
      rootFingerprint: ca.chainRootFingerprint,
      issuedRootsPem: ca.state.rootCertPem,
    });
    const previous = this.renewTimers.get(key);
    if (previous) clearTimeout(previous);
    const delayMs = renewalDelayMs(
      lifeLeftMs(issued.expiresAt, new Date()),
      this.renewFraction,
      this.renewalJitter,
      this.random,
    );
    const dueAtMs = Date.now() + delayMs;
    const timer = setTimeout(() => {
      this.renewTimers.delete(key);
      if (this.stopped) return;
      this.renewalsDue.set(key, { dueAtMs, oldExpiresAtMs: issued.expiresAt.getTime() });
      this.scheduleIssue(key, uid);
    }, delayMs);
    this.renewTimers.set(key, timer);
  }
}

/**
 * How long after the proxy receives a certificate it renews it (pilot-agent's rotateTime, security/pkg/
 * nodeagent/cache/secretcache.go): at renewFraction of the life left at receipt (`lifeMs`, notAfter minus
 * the time received), moved by the jitter as pilot-agent moves it (a grace ratio of 1 - renewFraction
 * plus or minus up to the jitter, at random).
 */
export function renewalDelayMs(
  lifeMs: number,
  renewFraction: number,
  renewalJitter: number,
  random: () => number,
): number {
  if (renewalJitter === 0) return lifeMs * renewFraction;
  return lifeMs * (renewFraction + renewalJitter * (2 * random() - 1));
}

/**
 * What pilot-agent takes as a certificate's life: from when it holds it to its notAfter, not from its
 * notBefore, so a signature that came late is renewed sooner, never past expiry.
 */
export function lifeLeftMs(expiresAt: Date, receivedAt: Date): number {
  return Math.max(0, expiresAt.getTime() - receivedAt.getTime());
}

function podKey(namespace: string, podName: string): string {
  return `${namespace}/${podName}`;
}

/**
 * pilot-agent's trust anchors with PCDS: the pushed bundle and the certificate's root file, each
 * certificate once, in sorted order (mergeConfigTrustBundle), re-encoded as PEM.
 */
function mergeTrustAnchors(pushed: string, issued: string): string {
  return [...new Set([...pemBodies(pushed), ...pemBodies(issued)])]
    .sort()
    .map((body) => certificatePem(Buffer.from(body, 'base64')))
    .join('');
}

/** The base64 of each CERTIFICATE block, whitespace removed (whatever the line ends or text around). */
function pemBodies(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((block) =>
    block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''),
  );
}

function isSelfIssued(certificate: X509.X509Certificate): boolean {
  return Buffer.from(certificate.subjectName.toArrayBuffer()).equals(
    Buffer.from(certificate.issuerName.toArrayBuffer()),
  );
}

function certificatePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** The signing key as WebCrypto wants it, with the algorithm its certificate's signatures need. */
async function signingCryptoKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const details = key.asymmetricKeyDetails ?? {};
  const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
  const algorithm =
    key.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: curves[String(details.namedCurve)] ?? String(details.namedCurve) }
      : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  return webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, [
    'sign',
  ]);
}
