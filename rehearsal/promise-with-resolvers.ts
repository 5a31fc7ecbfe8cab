// aws-local-stepfunctions calls Promise.withResolvers, which Node has from 22 on; meshtrust runs on 20.

interface WithResolvers {
  withResolvers?: () => { promise: Promise<unknown>; resolve: unknown; reject: unknown };
}

export function polyfillPromiseWithResolvers(): void {
  const promise = Promise as unknown as WithResolvers;
  promise.withResolvers ??= () => {
    let resolve: unknown;
    let reject: unknown;
    const created = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: created, resolve, reject };
  };
}
