/** The event-sourcing kit's errors that carry more than a message. */
import { WeirError } from '../errors.ts'

/** An append's expected version did not hold; nothing was written. */
export class WrongExpectedVersionError extends WeirError {
  constructor(readonly aggregateId: string, readonly expectedVersion: string | number,
    readonly actualVersion: number) {
    super('WRONG_EXPECTED_VERSION', `Aggregate ${aggregateId} is at version ${actualVersion}, `
      + `not ${expectedVersion}: another writer appended first. Load it again and retry.`)
  }
}

/** `decide` rejected a command; nothing was written. */
export class CommandRejectedError<R> extends WeirError {
  constructor(readonly aggregateId: string, readonly rejection: R) {
    super('WEIR_ERR_ES_REJECTED', `The command to aggregate ${aggregateId} was rejected: `
      + `${JSON.stringify(rejection)}.`)
  }
}
