// Progress of long `mailgw maila` operations, on stderr and only when stderr is a terminal, so
// scripts and pipes get the plain result lines alone.

const MIN_ITEMS = 20
const INTERVAL_MS = 200

export interface ProgressStream {
  isTTY?: boolean
  write(text: string): unknown
}

export class Progress {
  private last = 0
  private readonly active: boolean

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: ProgressStream = process.stderr,
  ) {
    this.active = Boolean(stream.isTTY) && total >= MIN_ITEMS
  }

  update(done: number): void {
    if (!this.active) return
    const now = Date.now()
    if (done < this.total && now - this.last < INTERVAL_MS) return
    this.last = now
    this.stream.write(`\r${this.label}: ${done}/${this.total} (${Math.floor((done * 100) / this.total)}%)`)
  }

  end(): void {
    if (this.active) this.stream.write('\n')
  }
}
