// The test-side exposition parser (test/helpers/prometheus.ts) is itself tested: a parser that
// accepted anything would let every metrics test pass.
import t from 'tap'
import { ExpositionError, family, histogram, parseExposition, parseValue, value } from '../helpers/prometheus.js'

// The example of the format's documentation, plus a few extras (comments, a trailing comma,
// an empty label set, a timestamp, untyped samples).
const VALID = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400",}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# HELP help_escapes A backslash \\\\ and a "quote" and a\\nnewline.
# TYPE help_escapes gauge
help_escapes{} -Inf

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
nan_value NaN
`

t.test('parses the format documentation example and more', async (t) => {
  const m = parseExposition(VALID)
  const requests = family(m, 'http_requests_total')
  t.equal(requests.type, 'counter')
  t.equal(requests.help, 'The total number of HTTP requests.')
  t.same(requests.samples[0], {
    name: 'http_requests_total',
    labels: { method: 'post', code: '200' },
    value: 1027,
    timestamp: 1395066363000,
  })
  t.equal(value(m, 'http_requests_total', { code: '400', method: 'post' }), 3, 'trailing comma, label order free')
  t.same(family(m, 'msdos_file_access_time_seconds').samples[0].labels, {
    path: 'C:\\DIR\\FILE.TXT',
    error: 'Cannot find file:\n"FILE.TXT"',
  })
  t.equal(family(m, 'msdos_file_access_time_seconds').type, 'untyped')
  t.equal(value(m, 'metric_without_timestamp_and_labels'), 12.47)
  t.equal(value(m, 'something_weird', { problem: 'division by zero' }), Number.POSITIVE_INFINITY)
  t.equal(family(m, 'something_weird').samples[0].timestamp, -3982045)
  t.equal(family(m, 'help_escapes').help, 'A backslash \\ and a "quote" and a\nnewline.')
  t.equal(value(m, 'help_escapes'), Number.NEGATIVE_INFINITY, 'empty label set')
  t.same(histogram(m, 'http_request_duration_seconds'), {
    buckets: [
      [0.05, 24054],
      [0.1, 33444],
      [0.2, 100392],
      [0.5, 129389],
      [1, 133988],
      [Number.POSITIVE_INFINITY, 144320],
    ],
    sum: 53423,
    count: 144320,
  })
  t.equal(family(m, 'rpc_duration_seconds').samples.length, 5, 'summary series belong to their family')
  t.ok(Number.isNaN(value(m, 'nan_value')))
  t.equal(m.size, 8, 'eight families')
})

t.test('values: Go float syntax', async (t) => {
  t.same(['1', '-2.5', '.5', '1e3', '1.E-2', '+7'].map(parseValue), [1, -2.5, 0.5, 1000, 0.01, 7])
  t.same(['Inf', '+inf', '-Inf'].map(parseValue), [Infinity, Infinity, -Infinity])
  for (const bad of ['', '1,5', '0x10', 'infinity', '1e', '--1', ' 1'])
    t.throws(() => parseValue(bad), ExpositionError, bad)
})

// Each input breaks one rule of the format (or of the checks the parser adds for histograms).
const INVALID: [string, string][] = [
  ['no LF at the end', 'a 1'],
  ['a bad escape in a label value', 'a{l="\\t"} 1\n'],
  ['a quote escape in HELP', '# HELP a say \\"hi\\"\na 1\n'],
  ['an unterminated label value', 'a{l="x} 1\n'],
  ['a label given twice', 'a{l="1",l="2"} 1\n'],
  ['a bad label name', 'a{1l="1"} 1\n'],
  ['no value', 'a{l="1"}\n'],
  ['no blank before the value', 'a{l="1"}1\n'],
  ['a bad value', 'a one\n'],
  ['a bad timestamp', 'a 1 1.5\n'],
  ['three fields', 'a 1 2 3\n'],
  ['a bad metric name', '1a 1\n'],
  ['the same series twice', 'a{l="1"} 1\na{l="1"} 2\n'],
  ['samples of a family apart', 'a 1\nb 1\na{l="x"} 1\n'],
  ['TYPE after samples', 'a 1\n# TYPE a counter\n'],
  ['a second TYPE', '# TYPE a counter\n# TYPE a counter\na 1\n'],
  ['an unknown TYPE', '# TYPE a timer\na 1\n'],
  ['a second HELP', '# HELP a x\n# HELP a y\na 1\n'],
  ['a histogram sample without suffix', '# TYPE h histogram\nh 1\n'],
  ['a bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n'],
  [
    'buckets not cumulative',
    '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 4\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 5\n',
  ],
  [
    'le not ascending',
    '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
  ],
  ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  ['+Inf differs from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ['no _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
]

t.test('rejects what the format forbids', async (t) => {
  for (const [what, text] of INVALID) t.throws(() => parseExposition(text), ExpositionError, what)
})

t.test('the lookup helpers fail loudly', async (t) => {
  const m = parseExposition('a{l="1"} 1\n')
  t.throws(() => value(m, 'a'), /no sample a/, 'labels must match exactly')
  t.throws(() => value(m, 'a', { l: '1', k: '2' }), /no sample/)
  t.throws(() => family(m, 'b'), /no metric family b/)
  t.throws(() => histogram(m, 'a'), /not a histogram/)
})
