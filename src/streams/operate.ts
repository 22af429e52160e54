/**
 * How Weir's operators are built (RxJS's own operators use an internal `operate()` the same way):
 * on subscription — once per task, while the task builds its pipelines — `init` receives the
 * downstream subscriber and the task, and returns the handler for each value. A throw in the
 * handler goes to the downstream error channel, as in RxJS's operators, where the task's error
 * handling finds it; it is never swallowed.
 */
import { Observable, type OperatorFunction, type Subscriber } from 'rxjs'
import { currentHost, type OperatorHost } from './processing-context.ts'

export function operate<A, B>(name: string,
  init: (subscriber: Subscriber<B>, host: OperatorHost) => (value: A) => void):
OperatorFunction<A, B> {
  return source => new Observable<B>(subscriber => {
    const onValue = init(subscriber, currentHost(name))
    return source.subscribe({
      next(value) {
        try {
          onValue(value)
        } catch (error) {
          subscriber.error(error)
        }
      },
      error: error => subscriber.error(error),
      complete: () => subscriber.complete(),
    })
  })
}
