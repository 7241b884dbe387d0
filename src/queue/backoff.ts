// Retry schedule of the outbound queue from [mailgw.timeouts]. Haraka retries a deferred message
// after each interval of `outbound.ini temp_fail_intervals` and bounces it (DSN to the sender)
// once the list is used up. So the schedule doubles from MinimalBackoffTime up to
// MaximalBackoffTime, and it ends where the next retry would fall after MaximalQueueLifetime.

/** Haraka 3.3.4 rejects intervals below 5 seconds (outbound/config.js). */
export const HARAKA_MIN_INTERVAL = 5

export interface BackoffSettings {
  minimalBackoff: number
  maximalBackoff: number
  queueLifetime: number
}

/** Returns the retry intervals in seconds; their sum never exceeds the queue lifetime. */
export function retrySchedule({ minimalBackoff, maximalBackoff, queueLifetime }: BackoffSettings): number[] {
  const min = Math.max(HARAKA_MIN_INTERVAL, Math.round(minimalBackoff))
  const max = Math.max(min, Math.round(maximalBackoff))
  const intervals: number[] = []
  let elapsed = 0
  let next = min

  while (elapsed + next <= queueLifetime) {
    intervals.push(next)
    elapsed += next
    next = Math.min(max, next * 2)
  }

  // Keep one retry even when the lifetime is shorter than the first interval, because a message
  // must get at least one second attempt before it bounces.
  if (intervals.length === 0) intervals.push(min)
  return intervals
}

/** Formats a schedule for `temp_fail_intervals`, compressing runs (`1800s,3600s,21600s*17`). */
export function formatSchedule(intervals: readonly number[]): string {
  const parts: string[] = []
  let i = 0
  while (i < intervals.length) {
    let j = i
    while (j + 1 < intervals.length && intervals[j + 1] === intervals[i]) j++
    const count = j - i + 1
    parts.push(count > 1 ? `${intervals[i]}s*${count}` : `${intervals[i]}s`)
    i = j + 1
  }
  return parts.join(',')
}
