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
  type Framing,
  type RequestHead,
  type ResponseHead,
  type Trailer,
  fieldName,
  fieldValue,
  headerPairs,
  reasonPhrase,
} from './h1/head.js'
export { RequestParser, type RequestEvents } from './h1/request-parser.js'
export { ResponseParser, type ResponseEvents } from './h1/response-parser.js'
export { DEFAULT_LIMITS, type Limits, type RequestContext } from './h1/validator.js'
