/** The group API versions the listener serves (one file per version next to this one). */
import type { ApiVersionSchema } from '../api.ts'

export const groupApis: readonly ApiVersionSchema[] = []
