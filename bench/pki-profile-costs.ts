// What the PKI bench's profile of our process (pki-bench.ts) counts each frame as: node's own crypto by
// the function's name, bundled code by the module esbuild wrote it from (the worker is an unminified
// bundle, whose `// path` comments name each module).
import {
  type BundleModule,
  type FrameCost,
  isNodeCode,
  moduleAt,
  type ProfileFrame,
} from './cpu-profile-summary.js';

/** A frame as the rules see it: its function and, for bundled code, the module it came from. */
interface PkiFrame extends ProfileFrame {
  readonly module?: string;
}

const RULES: readonly { readonly what: string; matches(frame: PkiFrame): boolean }[] = [
  { what: 'garbage collection', matches: (f) => f.functionName === '(garbage collector)' },
  {
    what: "idle: waiting on node's thread pool (crypto jobs such as RSA key generation, async file writes)",
    matches: (f) => f.functionName === '(idle)',
  },
  {
    what: 'node itself (startup, parsing and compiling code)',
    matches: (f) => f.functionName === '(program)',
  },
  {
    what: 'key generation (node crypto)',
    matches: (f) => isNodeCode(f) && /^(generateKeyPair|ecGenerateKey|rsaKeyGenerate)/.test(f.functionName),
  },
  {
    what: 'key encoding: PEM/PKCS#8/SPKI import and export (node crypto)',
    matches: (f) =>
      isNodeCode(f) &&
      /^(createPrivateKey|createPublicKey|importKey|exportKey|export|ecImportKey|ecExportKey|rsaImportKey|rsaExportKey)$/.test(
        f.functionName,
      ),
  },
  {
    what: 'signing (node crypto)',
    matches: (f) =>
      isNodeCode(f) && /^(sign|signOneShot|signVerify|ecdsaSignVerify|rsaSignVerify)$/.test(f.functionName),
  },
  { what: 'hashing (node crypto)', matches: (f) => isNodeCode(f) && /[dD]igest/.test(f.functionName) },
  {
    what: 'file writes',
    matches: (f) =>
      isNodeCode(f) &&
      /^(writeFile|writeFileSync|openSync|writeSync|closeSync|openFileHandle|close|writeFileHandle)$/.test(
        f.functionName,
      ),
  },
  {
    what: 'module loading (imports)',
    matches: (f) =>
      isNodeCode(f) && /(compileSourceTextModule|ModuleJob|moduleStrategy)/.test(f.functionName),
  },
  {
    what: 'ASN.1 encoding and parsing (asn1js, @peculiar/asn1-*, @peculiar/utils)',
    matches: (f) =>
      /node_modules\/(asn1js|@peculiar\/asn1-[a-z0-9-]+|@peculiar\/utils|pvtsutils|pvutils)\//.test(
        f.module ?? '',
      ),
  },
  {
    what: 'certificate building (@peculiar/x509 and its runtime: tsyringe, tslib, reflect-metadata)',
    matches: (f) =>
      /node_modules\/(@peculiar\/x509|tsyringe|tslib|reflect-metadata|@peculiar\/json-schema)\//.test(
        f.module ?? '',
      ),
  },
  { what: 'meshtrust PKI core', matches: (f) => (f.module ?? '').startsWith('lambdas/') },
  { what: 'the bench worker', matches: (f) => (f.module ?? '').startsWith('bench/') },
];

/** The cost of a frame of the PKI worker's profile, by the first rule it matches. */
export function pkiCosts(bundle: {
  readonly url: string;
  readonly modules: readonly BundleModule[];
}): FrameCost {
  return (frame) => {
    const module = frame.url.endsWith(bundle.url) ? moduleAt(bundle.modules, frame.lineNumber) : undefined;
    const seen: PkiFrame = module === undefined ? frame : { ...frame, module };
    return RULES.find((rule) => rule.matches(seen))?.what;
  };
}
