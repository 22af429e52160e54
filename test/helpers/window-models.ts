/**
 * Models of windowed operators for tests: plain loops over the input, written from Kafka's
 * rules and shared by the operator's own test and the crash properties.
 */

export interface Input { key: string, timestamp: number }
export interface Session { start: number, end: number, value: number }
export interface SessionEvent {
  key: string
  window: { start: number, end: number }
  value: number | null
}

/**
 * The events and final sessions of session counting (session-aggregate.ts): per record, the
 * key's sessions past end + gap + grace are forgotten, the record merges with the sessions
 * within the gap, is late if the merged session's end + grace < stream time, and otherwise
 * emits a removal per merged session (unless it only met [t, t]) then the new session.
 */
export function sessionModel(records: readonly Input[], gap: number, grace: number):
{ events: SessionEvent[], sessions: Map<string, Session[]>, late: number } {
  let streamTime = -1
  let late = 0
  const sessions = new Map<string, Session[]>()
  const events: SessionEvent[] = []
  for (const { key, timestamp: t } of records) {
    streamTime = Math.max(streamTime, t)
    const live = (sessions.get(key) ?? []).filter(s => s.end + gap + grace >= streamTime)
    const reached = live.filter(s => t >= s.start - gap && t <= s.end + gap)
    let start = t
    let end = t
    let count = 1
    for (const s of reached) {
      start = Math.min(start, s.start)
      end = Math.max(end, s.end)
      count += s.value
    }
    if (end + grace < streamTime) {
      late++
      continue
    }
    if (start !== t || end !== t) {
      for (const s of reached) {
        events.push({ key, window: { start: s.start, end: s.end }, value: null })
      }
    }
    events.push({ key, window: { start, end }, value: count })
    sessions.set(key, [...live.filter(s => !reached.includes(s)), { start, end, value: count }]
      .sort((a, b) => a.start - b.start))
  }
  return { events, sessions, late }
}
