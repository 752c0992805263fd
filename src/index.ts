// strictgate's public API: everything users import comes from here.
export {
  ERROR_CODES,
  type ErrorCode,
  type ErrorSource,
  GatewayError,
  type ParseFailure,
  type ProxyStatusType,
  proxyStatusFor,
  statusFor,
} from './errors.js'
export {
  type AdminListenOptions,
  createGateway,
  type ErrorMessage,
  type ExchangeMessage,
  type Gateway,
  type GatewayStats,
  type HealthReport,
  type ListenOptions,
  type ListenTlsOptions,
} from './gateway.js'
export type { RequestContext } from './h1/check-head.js'
export {
  type Framing,
  fieldName,
  fieldValue,
  headerPairs,
  type RequestHead,
  type ResponseHead,
  reasonPhrase,
  type Trailer,
} from './h1/head.js'
export { DEFAULT_LIMITS, type Limits } from './h1/limits.js'
export { type RequestEvents, RequestParser } from './h1/request-parser.js'
export { type ResponseEvents, ResponseParser } from './h1/response-parser.js'
export type { HandlerOptions, ProxyHandler, ProxyResult } from './io/embedding.js'
export type { TargetStats } from './io/targets.js'
export type { HealthMessage } from './ops/health-check.js'
export { EXPOSITION_CONTENT_TYPE } from './ops/metrics.js'
export type {
  ErrorResponse,
  GatewayLimits,
  GatewayOptions,
  HealthCheckOptions,
  HealthOptions,
  OnError,
  PoolOptions,
  ProxyOptions,
  RouteOptions,
  RouteResult,
  Timeouts,
  UpstreamTarget,
  ViaOptions,
} from './options.js'
