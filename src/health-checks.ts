// The gateway's active health checks: one HealthChecker (ops/health-check.ts) over the targets of
// the current configuration, started with the gateway and stopped by close(). reconfigure()
// hands it the new targets (a URL kept keeps its verdict and its probe loop), or replaces it when
// the check settings changed (the new one starts with every target up, as a new gateway does).

import type { Config } from './io/config.js'
import type { GatewayMetrics } from './ops/gateway-metrics.js'
import { HealthChecker } from './ops/health-check.js'

export class ActiveChecks {
  private checker: HealthChecker | null = null
  /** The settings the checker runs with, as JSON ('' for none): what a reconfigure compares. */
  private settings = ''
  private readonly metrics: GatewayMetrics

  constructor(metrics: GatewayMetrics) {
    this.metrics = metrics
  }

  /** Run the checks `config` asks for (none: `health.check` unset) over its targets. */
  apply(config: Config): void {
    const { options, targets } = config
    const { check, maxFails } = options.health
    const settings = check === null ? '' : JSON.stringify({ check, maxFails, limits: options.limits })
    if (this.checker !== null && settings === this.settings) {
      this.checker.setTargets(targets.targets)
      return
    }
    this.stop()
    this.settings = settings
    if (check === null) return
    for (const target of targets.targets) target.markUp()
    this.checker = new HealthChecker(targets.targets, {
      check,
      maxFails,
      limits: options.limits,
      onProbe: (target, result) => this.metrics.healthCheck(target.config.url, result.ok),
    })
    this.checker.start()
  }

  stop(): void {
    this.checker?.stop()
    this.checker = null
  }
}
