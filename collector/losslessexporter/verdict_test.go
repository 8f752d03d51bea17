// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

func otlpStatusBody(t testing.TB, message string) []byte {
	body, err := proto.Marshal(&spb.Status{Code: 3, Message: message})
	require.NoError(t, err)
	return body
}

func partialSuccessBody(t testing.TB, rejected int64) []byte {
	response := plogotlp.NewExportResponse()
	response.PartialSuccess().SetRejectedLogRecords(rejected)
	response.PartialSuccess().SetErrorMessage("bad record")
	body, err := response.MarshalProto()
	require.NoError(t, err)
	return body
}

func TestJudge(t *testing.T) {
	httpErr := errors.New("HTTP failure")
	html := exchange{status: 400, contentType: "text/html", body: []byte("<html><head><title>400 Bad Request</title></head><body>blocked by WAF</body></html>")}
	splunk := func(status, code int, text string) exchange {
		return exchange{status: status, contentType: "application/json", body: fmt.Appendf(nil, `{"text":%q,"code":%d}`, text, code)}
	}
	tests := []struct {
		name    string
		kind    string
		err     error
		answers []exchange
		want    outcome
		status  int
		message string
	}{
		{"accepted", typeSplunkHEC, nil, []exchange{splunk(200, 0, "Success")}, delivered, 0, ""},
		{"splunk rotated token (403)", typeSplunkHEC, httpErr, []exchange{splunk(403, 4, "Invalid token")}, refused, 403, "Invalid token (code 4)"},
		{"splunk token disabled (403)", typeSplunkHEC, httpErr, []exchange{splunk(403, 1, "Token disabled")}, refused, 403, "Token disabled (code 1)"},
		{"splunk token required (401)", typeSplunkHEC, httpErr, []exchange{splunk(401, 2, "Token is required")}, refused, 401, "Token is required (code 2)"},
		{"splunk invalid data format (400, code 6)", typeSplunkHEC, httpErr, []exchange{splunk(400, 6, "Invalid data format")}, rejected, 400, "Invalid data format (code 6)"},
		{"splunk event field blank (400, code 13)", typeSplunkHEC, httpErr, []exchange{splunk(400, 13, "Event field cannot be blank")}, rejected, 400, ""},
		{"splunk incorrect index (400, code 7) is the configuration", typeSplunkHEC, httpErr, []exchange{splunk(400, 7, "Incorrect index")}, refused, 400, "Incorrect index (code 7)"},
		{"a proxy's HTML 400 in front of splunk", typeSplunkHEC, httpErr, []exchange{html}, refused, 400, "an HTML page (400 Bad Request)"},
		{"splunk busy (503)", typeSplunkHEC, httpErr, []exchange{splunk(503, 9, "Server is busy")}, unavailable, 503, ""},
		{"splunk body limit (413)", typeSplunkHEC, httpErr, []exchange{{status: 413, contentType: "text/html"}}, tooLarge, 413, ""},
		{"splunk event over max_event_size (no answer, permanent)", typeSplunkHEC, consumererror.NewPermanent(errors.New("dropped log event: event size 9000 bytes larger than configured max content length 100 bytes")), nil, rejected, 0, ""},
		{"otlp 400 with an OTLP Status", typeOTLPHTTP, httpErr, []exchange{{status: 400, contentType: "application/x-protobuf", body: otlpStatusBody(t, "invalid record")}}, rejected, 400, "invalid record"},
		{"otlp 400 with JSON Status", typeOTLPHTTP, httpErr, []exchange{{status: 400, contentType: "application/json; charset=utf-8", body: []byte(`{"code":3,"message":"bad field"}`)}}, rejected, 400, "bad field"},
		{"otlp 400 from a proxy (HTML)", typeOTLPHTTP, httpErr, []exchange{html}, refused, 400, ""},
		{"otlp 500 is an outage, not permanent", typeOTLPHTTP, httpErr, []exchange{{status: 500}}, unavailable, 500, ""},
		{"otlp 401", typeOTLPHTTP, httpErr, []exchange{{status: 401}}, refused, 401, ""},
		{"otlp 404", typeOTLPHTTP, httpErr, []exchange{{status: 404}}, refused, 404, ""},
		{"otlp 407 (proxy authentication)", typeOTLPHTTP, httpErr, []exchange{{status: 407}}, refused, 407, ""},
		{"otlp 408", typeOTLPHTTP, httpErr, []exchange{{status: 408}}, unavailable, 408, ""},
		{"a web page answering 200 at the HEC URL", typeSplunkHEC, nil, []exchange{{status: 200, contentType: "text/html", body: []byte("<html><head><title>Welcome</title></head></html>")}}, refused, 200, "HTTP 200 with an HTML page (Welcome) (text/html), not a Splunk HEC answer: is this the destination's URL?"},
		{"HEC's answer with an ack id", typeSplunkHEC, nil, []exchange{{status: 200, contentType: "application/json", body: []byte(`{"text": "Success", "code": 0, "ackId": 7}`)}}, delivered, 0, ""},
		{"a captive portal answering 200 at the OTLP URL", typeOTLPHTTP, nil, []exchange{{status: 200, contentType: "text/html", body: []byte("<html>portal</html>")}}, refused, 200, ""},
		{"an empty 200 from an OTLP intake", typeOTLPHTTP, nil, []exchange{{status: 200, contentType: "application/x-protobuf"}}, delivered, 0, ""},
		{"otlp partial success", typeOTLPHTTP, nil, []exchange{{status: 200, contentType: "application/x-protobuf", body: partialSuccessBody(t, 1)}}, rejected, 200, ""},
		{"otlp partial success with none rejected", typeOTLPHTTP, nil, []exchange{{status: 200, contentType: "application/x-protobuf", body: partialSuccessBody(t, 0)}}, delivered, 0, ""},
		{"elasticsearch mapping error", typeElasticsearch, nil, []exchange{{status: 200, contentType: "application/json", body: []byte(`{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":400,"error":{"type":"document_parsing_exception","reason":"failed to parse field [x]"}}}]}`)}}, rejected, 400, "document_parsing_exception: failed to parse field [x]"},
		{"elasticsearch items throttled", typeElasticsearch, nil, []exchange{{status: 200, contentType: "application/json", body: []byte(`{"errors":true,"items":[{"create":{"status":400,"error":{"type":"x","reason":"y"}}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}`)}}, unavailable, 429, ""},
		{"elasticsearch duplicate ids are not failures", typeElasticsearch, nil, []exchange{{status: 200, body: []byte(`{"errors":true,"items":[{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"exists"}}}]}`)}}, delivered, 0, ""},
		{"kafka message too large", typeKafka, fmt.Errorf("error exporting to topic %q: %w", "audit", kerr.MessageTooLarge), nil, tooLarge, 0, ""},
		{"kafka topic authorization", typeKafka, consumererror.NewPermanent(fmt.Errorf("error exporting: %w", kerr.TopicAuthorizationFailed)), nil, refused, 0, ""},
		{"kafka leader not available", typeKafka, fmt.Errorf("error exporting: %w", kerr.LeaderNotAvailable), nil, unavailable, 0, ""},
		{"connection refused", typeSyslog, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, nil, unavailable, 0, ""},
		{"a certificate the exporter does not trust", typeSyslog, fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), nil, refused, 0, ""},
		{"no such host", typeOTLPHTTP, &net.DNSError{Err: "no such host", Name: "siem.invalid", IsNotFound: true}, nil, refused, 0, ""},
		{"file: disk full", typeFile, errors.New("write /archive/audit.zst: no space left on device"), nil, unavailable, 0, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			v := judge(test.kind, test.err, test.answers)
			assert.Equal(t, test.want.String(), v.outcome.String())
			if test.status != 0 {
				assert.Equal(t, test.status, v.status)
			}
			if test.message != "" {
				assert.Equal(t, test.message, v.message)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	v := judge(typeOTLPHTTP, errors.New("throttled"), []exchange{{status: 429, retryAfter: "7"}})
	assert.Equal(t, unavailable, v.outcome)
	assert.Equal(t, 7*time.Second, v.retryAfter)
	date := time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat)
	v = judge(typeSplunkHEC, errors.New("busy"), []exchange{{status: 503, retryAfter: date}})
	assert.InDelta(t, 30, v.retryAfter.Seconds(), 2)
	assert.Zero(t, parseRetryAfter("soon"))
	assert.Zero(t, parseRetryAfter("-3"))
}

func TestCleanMakesOneSafeLine(t *testing.T) {
	assert.Equal(t, "a b c", clean("a\r\nb\tc"))
	assert.Equal(t, "x [31my", clean("x\x1b[31my"))
	assert.Equal(t, "Invalid token", clean("  Invalid\x00 token\n"))
	long := clean(fmt.Sprintf("%0500d", 7))
	assert.LessOrEqual(t, len(long), maxMessage+len("…"))
}

// FuzzJudge: whatever a destination answers, judging it never panics and gives one of the outcomes.
func FuzzJudge(f *testing.F) {
	f.Add(400, "application/x-protobuf", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, "")
	f.Add(200, "application/json", []byte(`{"errors":true,"items":[{"x":{"status":400,"error":null}}]}`), "1")
	f.Add(400, "application/json", []byte(`{"text":"x","code":6}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add(200, "application/x-protobuf", []byte("\n\n"), "")
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, retryAfter string) {
		for _, kind := range []string{typeSplunkHEC, typeOTLPHTTP, typeElasticsearch, typeKafka, typeSyslog, typeFile} {
			for _, err := range []error{nil, errors.New("failed")} {
				v := judge(kind, err, []exchange{{status: status, contentType: contentType, body: body, retryAfter: retryAfter}})
				if v.outcome < delivered || v.outcome > unavailable {
					t.Fatalf("outcome %d out of range", v.outcome)
				}
				if len(v.message) > maxMessage+len("…") {
					t.Fatalf("message of %d bytes", len(v.message))
				}
			}
		}
	})
}

// TestJudgeRandomAnswers runs the fuzz property on seeded random and mutated answers in every test
// run (go test runs a fuzz target only on its seeds).
func TestJudgeRandomAnswers(t *testing.T) {
	seeds := [][]byte{otlpStatusBody(t, "x"), partialSuccessBody(t, 3), []byte(`{"text":"Invalid token","code":4}`), []byte(`{"errors":true,"items":[{"create":{"status":400,"error":{"type":"t","reason":"r"}}}]}`)}
	random := rand.New(rand.NewPCG(1, 2))
	statuses := []int{200, 204, 400, 401, 403, 404, 413, 429, 500, 503, 0, -1, 999}
	types := []string{"application/x-protobuf", "application/json", "text/html", "", "application/json; charset=\x00"}
	const inputs = 20000
	for i := 0; i < inputs; i++ {
		body := append([]byte(nil), seeds[random.IntN(len(seeds))]...)
		for m := random.IntN(4); m >= 0 && len(body) > 0; m-- {
			switch random.IntN(3) {
			case 0:
				body[random.IntN(len(body))] = byte(random.IntN(256))
			case 1:
				body = body[:random.IntN(len(body))]
			default:
				body = append(body, byte(random.IntN(256)))
			}
		}
		if random.IntN(10) == 0 {
			body = make([]byte, random.IntN(64))
			for j := range body {
				body[j] = byte(random.IntN(256))
			}
		}
		answer := exchange{status: statuses[random.IntN(len(statuses))], contentType: types[random.IntN(len(types))], body: body, retryAfter: fmt.Sprint(random.IntN(100) - 10)}
		for _, kind := range []string{typeSplunkHEC, typeOTLPHTTP, typeElasticsearch} {
			v := judge(kind, nil, []exchange{answer})
			require.True(t, v.outcome >= delivered && v.outcome <= unavailable)
			v = judge(kind, errors.New("failed"), []exchange{answer})
			require.True(t, v.outcome >= delivered && v.outcome <= unavailable)
		}
	}
	t.Logf("judged %d random and mutated answers for 3 exporter types, with and without an error", inputs)
}
