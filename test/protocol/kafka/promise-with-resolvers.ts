/**
 * `Promise.withResolvers` on Node 20, for @platformatic/kafka 2.x in the tests only.
 *
 * Why: @platformatic/kafka 2.12.1 declares Node >= 22.22 and calls `Promise.withResolvers` (an
 * ES2024 API, Node >= 22) without a guard (dist/apis/callbacks.js, dist/protocol/compression.js):
 * on Node 20 every request would throw "Promise.withResolvers is not a function". Weir supports
 * Node >= 20, and npm on Node 20 would otherwise pick the 1.x line, which speaks only flexible
 * protocol versions. Import this module before @platformatic/kafka is loaded; it installs the
 * standard semantics only where the function is missing, so Node 22+ keeps its own.
 */

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

// The repo's lib is ES2023, which does not declare withResolvers: type it locally rather than
// augment the global PromiseConstructor (that would let src/ use it on Node 20 unnoticed).
const promise = Promise as PromiseConstructor & { withResolvers?: <T>() => Resolvers<T> }

if (typeof promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const created = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise: created, resolve, reject }
    },
  })
}

export {}
