/**
 * The Produce, Fetch and ListOffsets versions the listener serves (one file per version next to
 * this one). Ranges follow the reference's Profile A: Produce 0–7 (0–2 only advertised, for
 * librdkafka's compression check), Fetch 4–11, ListOffsets 1–3.
 */
import type { ApiVersionSchema } from '../api.ts'
import { fetchV4 } from './fetch-v4.ts'
import { fetchV5 } from './fetch-v5.ts'
import { fetchV6 } from './fetch-v6.ts'
import { fetchV7 } from './fetch-v7.ts'
import { fetchV8 } from './fetch-v8.ts'
import { fetchV9 } from './fetch-v9.ts'
import { fetchV10 } from './fetch-v10.ts'
import { fetchV11 } from './fetch-v11.ts'
import { listOffsetsV1 } from './list-offsets-v1.ts'
import { listOffsetsV2 } from './list-offsets-v2.ts'
import { listOffsetsV3 } from './list-offsets-v3.ts'
import { produceV0 } from './produce-v0.ts'
import { produceV1 } from './produce-v1.ts'
import { produceV2 } from './produce-v2.ts'
import { produceV3 } from './produce-v3.ts'
import { produceV4 } from './produce-v4.ts'
import { produceV5 } from './produce-v5.ts'
import { produceV6 } from './produce-v6.ts'
import { produceV7 } from './produce-v7.ts'

export const produceFetchApis: readonly ApiVersionSchema[] = [
  produceV0, produceV1, produceV2, produceV3, produceV4, produceV5, produceV6, produceV7,
  fetchV4, fetchV5, fetchV6, fetchV7, fetchV8, fetchV9, fetchV10, fetchV11,
  listOffsetsV1, listOffsetsV2, listOffsetsV3,
]
