// A virtual service's quorum with hysteresis, as keepalived's update_quorum_state: the quorum is
// gained when the healthy servers' weight reaches minimumWeight + hysteresis and lost when it falls
// below minimumWeight - hysteresis (or to zero). While lost, a configured sorry server takes the
// traffic in place of the remaining healthy servers. Without a quorum block the quorum is 1 with
// no hysteresis: lost exactly when no healthy weight is left.
export type QuorumChange = "gained" | "lost";

export class QuorumState {
  private isUp: boolean;

  constructor(
    private minimumWeight: number,
    private hysteresis: number,
    initialWeight: number,
  ) {
    this.isUp = initialWeight >= minimumWeight + hysteresis;
  }

  get up(): boolean {
    return this.isUp;
  }

  /** The threshold the next change is measured against. */
  get threshold(): number {
    return this.minimumWeight + (this.isUp ? -this.hysteresis : this.hysteresis);
  }

  /** New settings keep the current state until the weight says otherwise. */
  configure(minimumWeight: number, hysteresis: number): void {
    this.minimumWeight = minimumWeight;
    this.hysteresis = hysteresis;
  }

  update(weight: number): QuorumChange | undefined {
    const threshold = this.threshold;
    if (!this.isUp && weight >= threshold) {
      this.isUp = true;
      return "gained";
    }
    if (this.isUp && (weight === 0 || weight < threshold)) {
      this.isUp = false;
      return "lost";
    }
    return undefined;
  }
}
