// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/twmb/franz-go/pkg/kerr"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// outcome is what one attempt of a batch came to.
type outcome int

const (
	// delivered: the destination took every record.
	delivered outcome = iota
	// rejected: the destination refused some records for what they are (a Splunk "Invalid data
	// format", an OTLP Status on a 400, a partial success, an Elasticsearch mapping error): the
	// batch is split until each refused record is alone, and that record is dead-lettered.
	rejected
	// tooLarge: the batch is over a size limit behind the exporter (413, Kafka's MESSAGE_TOO_LARGE):
	// split likewise; a record too large on its own is dead-lettered.
	tooLarge
	// refused: the destination's configuration, not the records (401, 403, 404, 407, a 400 that is
	// not about a record, TLS, DNS, Kafka authorization): retried without a time limit, reported.
	refused
	// unavailable: an outage or throttling (connection errors, timeouts, 408, 429, 5xx): retried.
	unavailable
)

func (o outcome) String() string {
	return [...]string{"delivered", "rejected", "too large", "refused", "unavailable"}[o]
}

// verdict is the outcome of an attempt with what the destination said.
type verdict struct {
	outcome outcome
	// status is the HTTP status of the answer that decided, 0 without one.
	status int
	// message is the destination's own words (its error text, an OTLP Status message, a page's
	// title), cleaned of control characters and cut to maxMessage; or the error's.
	message string
	// retryAfter is the destination's Retry-After, 0 without one.
	retryAfter time.Duration
	// rejectedCount, on a rejection, is how many records the destination refused when it took the
	// others (an OTLP partial success, Elasticsearch bulk items); 0 when it refused the whole batch.
	rejectedCount int64
}

const maxMessage = 300

// Splunk HEC answer codes that mean "this event", not "this configuration"
// (https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector):
// 6 Invalid data format, 12 Event field is required, 13 Event field cannot be blank,
// 15 Error in handling indexed fields. Every other 400 code (7 Incorrect index, 10 Data channel is
// missing, 11 Invalid data channel, 14 ACK is disabled, 16 query-string auth not enabled) and a 400
// without a HEC body (a proxy's page) is the configuration's.
var splunkRecordCodes = map[int]bool{6: true, 12: true, 13: true, 15: true}

// judge classifies one attempt of the wrapped exporter of type kind: its error and the HTTP answers
// it received (empty for exporters that do not speak HTTP).
func judge(kind string, err error, answers []exchange) verdict {
	kind = canonicalType(kind)
	if err == nil {
		return judgeAccepted(kind, answers)
	}
	if v, ok := judgeKafka(err); ok {
		return v
	}
	if failed, ok := lastFailure(answers); ok {
		return judgeAnswer(kind, failed, err)
	}
	message := clean(err.Error())
	switch {
	case isConfigurationError(err):
		return verdict{outcome: refused, message: message}
	case consumererror.IsPermanent(err) && !isNetworkError(err):
		// A permanent error with no answer behind it comes from the exporter's own encoding of a
		// record (splunk_hec: an event over max_event_size or max_content_length): that record.
		return verdict{outcome: rejected, message: message}
	default:
		return verdict{outcome: unavailable, message: message}
	}
}

// judgeAccepted looks into answers the wrapped exporter took as success. A 2xx that is not the
// destination's own kind of answer (an HTML page from a web server or a captive portal at the
// configured URL) delivered nothing: it is a refusal, named by what answered. Records refused
// within a real answer (an OTLP partial success, Elasticsearch bulk items) are a rejection.
func judgeAccepted(kind string, answers []exchange) verdict {
	for _, answer := range answers {
		if answer.status < 200 || answer.status > 299 || len(answer.body) == 0 {
			continue
		}
		switch kind {
		case typeSplunkHEC:
			if code, _, ok := splunkAnswer(answer.body); !ok || code != 0 {
				return notTheDestination(answer, "a Splunk HEC answer")
			}
		case typeOTLPHTTP:
			n, message, ok := partialSuccess(answer)
			if !ok {
				return notTheDestination(answer, "an OTLP response")
			}
			if n > 0 {
				return verdict{outcome: rejected, status: answer.status, rejectedCount: n, message: clean(fmt.Sprintf("partial success: %d record(s) rejected: %s", n, message))}
			}
		case typeElasticsearch:
			if v, ok := judgeBulk(answer); ok {
				return v
			}
		}
	}
	return verdict{outcome: delivered}
}

// notTheDestination: a 2xx whose body is not what the destination answers.
func notTheDestination(answer exchange, expected string) verdict {
	what := describe(answer)
	if media := mediaType(answer.contentType); media != "" {
		what = fmt.Sprintf("%s (%s)", what, media)
	}
	return verdict{outcome: refused, status: answer.status, message: clean(fmt.Sprintf("HTTP %d with %s, not %s: is this the destination's URL?", answer.status, what, expected))}
}

// judgeAnswer classifies a failing HTTP answer.
func judgeAnswer(kind string, answer exchange, err error) verdict {
	v := verdict{status: answer.status, message: describe(answer), retryAfter: parseRetryAfter(answer.retryAfter)}
	if v.message == "" {
		v.message = clean(err.Error())
	}
	switch {
	case answer.status == http.StatusRequestEntityTooLarge:
		v.outcome = tooLarge
	case answer.status == http.StatusRequestTimeout || answer.status == http.StatusTooManyRequests || answer.status >= 500:
		v.outcome = unavailable
	case answer.status == http.StatusBadRequest && isRecordRejection(kind, answer):
		v.outcome = rejected
	case answer.status >= 200 && answer.status <= 299:
		// The exporter failed on an answer that says success (an unreadable body): try again.
		v.outcome = unavailable
	default:
		v.outcome = refused
	}
	return v
}

// isRecordRejection says whether a 400 is about records rather than the configuration.
func isRecordRejection(kind string, answer exchange) bool {
	switch kind {
	case typeSplunkHEC:
		code, _, ok := splunkAnswer(answer.body)
		return ok && splunkRecordCodes[code]
	case typeOTLPHTTP:
		_, ok := otlpStatus(answer)
		return ok
	}
	return false
}

// judgeKafka classifies the producer's errors: size limits, records the broker cannot take, and the
// broker's non-retriable errors (authorization, unknown topic policy) as refusals.
func judgeKafka(err error) (verdict, bool) {
	var kafkaErr *kerr.Error
	if !errors.As(err, &kafkaErr) {
		return verdict{}, false
	}
	message := clean(err.Error())
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return verdict{outcome: tooLarge, message: message}, true
	case errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.InvalidRecord):
		return verdict{outcome: rejected, message: message}, true
	case kafkaErr.Retriable:
		return verdict{outcome: unavailable, message: message}, true
	default:
		return verdict{outcome: refused, message: message}, true
	}
}

func lastFailure(answers []exchange) (exchange, bool) {
	for i := len(answers) - 1; i >= 0; i-- {
		if answers[i].status < 200 || answers[i].status > 299 {
			return answers[i], true
		}
	}
	if len(answers) > 0 {
		return answers[len(answers)-1], true
	}
	return exchange{}, false
}

// isConfigurationError: certificate and name-resolution failures are the configuration's.
func isConfigurationError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	var verification *tls.CertificateVerificationError
	var dns *net.DNSError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &recordHeader) || errors.As(err, &verification) || (errors.As(err, &dns) && dns.IsNotFound)
}

func isNetworkError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

// splunkAnswer reads a HEC answer: {"text": "Invalid data format", "code": 6, ...}.
func splunkAnswer(body []byte) (int, string, bool) {
	var answer struct {
		Text *string `json:"text"`
		Code *int    `json:"code"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Code == nil || answer.Text == nil {
		return 0, "", false
	}
	return *answer.Code, *answer.Text, true
}

func mediaType(contentType string) string {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return media
}

// otlpStatus reads an OTLP/HTTP error answer: a google.rpc.Status, protobuf or JSON by its Content-Type.
func otlpStatus(answer exchange) (*spb.Status, bool) {
	if answer.bodyTruncated || len(answer.body) == 0 {
		return nil, false
	}
	status := &spb.Status{}
	switch mediaType(answer.contentType) {
	case "application/x-protobuf":
		if proto.Unmarshal(answer.body, status) != nil {
			return nil, false
		}
	case "application/json":
		if (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(answer.body, status) != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	return status, true
}

// partialSuccess reads an ExportLogsServiceResponse's rejected count.
func partialSuccess(answer exchange) (int64, string, bool) {
	response := plogotlp.NewExportResponse()
	var err error
	switch mediaType(answer.contentType) {
	case "application/x-protobuf":
		err = response.UnmarshalProto(answer.body)
	case "application/json":
		err = response.UnmarshalJSON(answer.body)
	default:
		return 0, "", false
	}
	if err != nil {
		return 0, "", false
	}
	partial := response.PartialSuccess()
	return partial.RejectedLogRecords(), partial.ErrorMessage(), true
}

// judgeBulk reads an Elasticsearch bulk answer for items that failed: 429 and 5xx are an outage
// (the whole batch is tried again: the exporter has given up on them), other 4xx but 409 (already
// indexed) are records the index refuses (a mapping error).
func judgeBulk(answer exchange) (verdict, bool) {
	var bulk struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int `json:"status"`
			Error  *struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"error"`
		} `json:"items"`
	}
	if json.Unmarshal(answer.body, &bulk) != nil || !bulk.Errors {
		return verdict{}, false
	}
	var refusedItem *verdict
	var refusedItems int64
	for _, item := range bulk.Items {
		for _, result := range item {
			if result.Error == nil || result.Status == http.StatusConflict || (result.Status >= 200 && result.Status <= 299) {
				continue
			}
			message := clean(fmt.Sprintf("%s: %s", result.Error.Type, result.Error.Reason))
			if result.Status == http.StatusTooManyRequests || result.Status >= 500 {
				return verdict{outcome: unavailable, status: result.Status, message: message}, true
			}
			refusedItems++
			if refusedItem == nil {
				refusedItem = &verdict{outcome: rejected, status: result.Status, message: message}
			}
		}
	}
	if refusedItem == nil {
		return verdict{}, false
	}
	refusedItem.rejectedCount = refusedItems
	return *refusedItem, true
}

var htmlTitle = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)

// describe renders what a destination answered in a line of its own words.
func describe(answer exchange) string {
	if code, text, ok := splunkAnswer(answer.body); ok {
		return clean(fmt.Sprintf("%s (code %d)", text, code))
	}
	if status, ok := otlpStatus(answer); ok {
		return clean(status.GetMessage())
	}
	body := string(answer.body)
	if strings.Contains(mediaType(answer.contentType), "html") || strings.HasPrefix(strings.TrimSpace(body), "<") {
		if title := htmlTitle.FindStringSubmatch(body); title != nil {
			return clean(fmt.Sprintf("an HTML page (%s)", strings.TrimSpace(title[1])))
		}
		return "an HTML page"
	}
	var structured map[string]any
	if json.Unmarshal(answer.body, &structured) == nil {
		for _, key := range []string{"message", "error", "text", "reason"} {
			if text, ok := structured[key].(string); ok {
				return clean(text)
			}
		}
	}
	return clean(body)
}

// clean makes text from outside safe for one log line: control characters become spaces, runs of
// space fold, and it is cut to maxMessage bytes on a rune boundary.
func clean(text string) string {
	var b strings.Builder
	space := false
	for _, r := range text {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len()+len(string(r)) > maxMessage {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(value string) time.Duration {
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(strings.TrimSpace(value)); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second
	}
	if date, err := http.ParseTime(value); err == nil {
		if delay := time.Until(date); delay > 0 {
			return delay
		}
	}
	return 0
}
