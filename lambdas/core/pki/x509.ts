/**
 * The single entry point to @peculiar/x509 and WebCrypto for the PKI core.
 *
 * @peculiar/x509 loads tsyringe, which throws unless the Reflect metadata polyfill (reflect-metadata,
 * the reference implementation tsyringe documents) is installed first.
 * A static import cannot guarantee that order everywhere: jest runs CommonJS dependencies while it
 * links the ES module graph, before any module body (our polyfill included) executes. So the library
 * is imported dynamically, after the polyfill, with top-level await; esbuild bundles this form too.
 * Elsewhere in the core, import the library's types with `import type` and its values from here.
 *
 * The project compiles without the DOM lib, so WebCrypto types come from Node.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

export const x509: typeof X509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const subtle = webcrypto.subtle;

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcKeyImportParams = webcrypto.EcKeyImportParams;
export type RsaHashedImportParams = webcrypto.RsaHashedImportParams;
export type SigningAlgorithm = webcrypto.EcdsaParams | webcrypto.RsaHashedImportParams;
