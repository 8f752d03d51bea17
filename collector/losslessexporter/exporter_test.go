// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
)

const idAttribute = "log.record.uid"

// records makes n log records with ids id-0 .. id-(n-1) and a body of about size bytes.
func records(n, size int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "lossless-test")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("otel-audit")
	for i := 0; i < n; i++ {
		record := sl.LogRecords().AppendEmpty()
		record.Attributes().PutStr(idAttribute, fmt.Sprintf("id-%d", i))
		record.Body().SetStr(strings.Repeat("x", size))
	}
	return ld
}

// destination is an HTTP stand-in for a SIEM intake: it answers each request with answer(n, ids)
// (n counts requests from 1) and counts the copies of each record id it accepted.
type destination struct {
	mu       sync.Mutex
	copies   map[string]int
	requests int
	server   *httptest.Server
	kind     string
	answer   func(n int, ids []string, size int) (status int, contentType, body string)
}

func newDestination(t *testing.T, kind string, answer func(n int, ids []string, size int) (int, string, string)) *destination {
	d := &destination{copies: map[string]int{}, kind: kind, answer: answer}
	d.server = httptest.NewServer(http.HandlerFunc(d.handle))
	t.Cleanup(d.server.Close)
	return d
}

func (d *destination) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ids := d.ids(body)
	d.mu.Lock()
	d.requests++
	n := d.requests
	answer := d.answer
	d.mu.Unlock()
	status, contentType, text := answer(n, ids, len(body))
	if status >= 200 && status <= 299 {
		d.mu.Lock()
		for _, id := range ids {
			d.copies[id]++
		}
		d.mu.Unlock()
	}
	if contentType != "" {
		w.Header().Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// ids reads the record ids of a request: HEC events (their fields) or an OTLP protobuf request.
func (d *destination) ids(body []byte) []string {
	var ids []string
	if d.kind == typeSplunkHEC {
		decoder := json.NewDecoder(strings.NewReader(string(body)))
		for {
			var event struct {
				Fields map[string]any `json:"fields"`
			}
			if decoder.Decode(&event) != nil {
				return ids
			}
			if id, ok := event.Fields[idAttribute].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	request := plogotlp.NewExportRequest()
	if request.UnmarshalProto(body) != nil {
		return nil
	}
	logs := request.Logs()
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		for j := 0; j < logs.ResourceLogs().At(i).ScopeLogs().Len(); j++ {
			lrs := logs.ResourceLogs().At(i).ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				if id, ok := lrs.At(k).Attributes().Get(idAttribute); ok {
					ids = append(ids, id.Str())
				}
			}
		}
	}
	return ids
}

func (d *destination) setAnswer(answer func(n int, ids []string, size int) (int, string, string)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.answer = answer
}

func (d *destination) snapshot() (map[string]int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	copies := make(map[string]int, len(d.copies))
	for id, n := range d.copies {
		copies[id] = n
	}
	return copies, d.requests
}

func (d *destination) waitForIDs(t *testing.T, want int) map[string]int {
	t.Helper()
	var copies map[string]int
	require.Eventually(t, func() bool {
		copies, _ = d.snapshot()
		return len(copies) >= want
	}, 20*time.Second, 10*time.Millisecond, "the destination did not receive %d distinct records", want)
	return copies
}

func (d *destination) waitForRequests(t *testing.T, want int) {
	t.Helper()
	require.Eventually(t, func() bool { _, n := d.snapshot(); return n >= want }, 20*time.Second, 5*time.Millisecond)
}

func (d *destination) settings() map[string]any {
	if d.kind == typeSplunkHEC {
		return map[string]any{"endpoint": d.server.URL, "token": "hec-token", "disable_compression": true, "timeout": "2s"}
	}
	return map[string]any{"logs_endpoint": d.server.URL, "encoding": "proto", "compression": "none", "timeout": "2s"}
}

type harness struct {
	exporter exporter.Logs
	logs     *observer.ObservedLogs
	metrics  *sdkmetric.ManualReader
	letters  string
}

// settingsWithQueue is a lossless configuration with an in-memory queue and fast retries.
func settingsWithQueue(kind string, wrapped map[string]any, deadLetters string) map[string]any {
	return map[string]any{
		"exporter":         map[string]any{kind: wrapped},
		"sending_queue":    map[string]any{"enabled": true, "num_consumers": 1, "queue_size": 100000, "sizer": "items"},
		"retry_on_failure": map[string]any{"enabled": true, "initial_interval": "10ms", "max_interval": "50ms", "max_elapsed_time": "0s", "randomization_factor": 0},
		"dead_letter":      map[string]any{"directory": deadLetters, "redrive_interval": "50ms"},
	}
}

func start(t *testing.T, name string, settings map[string]any) *harness {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(settings).Unmarshal(cfg))
	require.NoError(t, cfg.(*Config).Validate())
	core, logs := observer.New(zap.DebugLevel)
	reader := sdkmetric.NewManualReader()
	set := exportertest.NewNopSettings(componentType)
	set.ID = component.NewIDWithName(componentType, name)
	set.Logger = zap.New(core)
	set.MeterProvider = sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return &harness{exporter: exp, logs: logs, metrics: reader, letters: cfg.(*Config).DeadLetter.Directory}
}

// gauge reads the value of an int64 gauge of this package's metrics.
func (h *harness) gauge(t *testing.T, name string) int64 {
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.metrics.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch data := m.Data.(type) {
			case metricdata.Gauge[int64]:
				return data.DataPoints[0].Value
			case metricdata.Sum[int64]:
				return data.DataPoints[0].Value
			}
		}
	}
	return -1
}

// letters reads the dead-letter file of exporter lossless/<name>.
func readLetters(t *testing.T, dir, name string) []letter {
	file, err := os.Open(filepath.Join(dir, "lossless__"+name+".ndjson"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer file.Close()
	var out []letter
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		var l letter
		require.NoError(t, json.Unmarshal(scanner.Bytes(), &l))
		out = append(out, l)
	}
	return out
}

func letterID(t *testing.T, l letter) string {
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(l.Record)
	require.NoError(t, err)
	require.Equal(t, 1, ld.LogRecordCount())
	id, _ := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(idAttribute)
	return id.Str()
}

func contains(ids []string, id string) bool {
	for _, each := range ids {
		if each == id {
			return true
		}
	}
	return false
}

const splunkOK = `{"text":"Success","code":0}`

// The case: a Splunk admin rotates the HEC token; HEC answers 403 "Invalid token" for a
// while, then accepts again. Upstream splunk_hec drops the batch; lossless keeps and delivers it.
func TestRotatedTokenDeliversEverythingAfterwards(t *testing.T) {
	d := newDestination(t, typeSplunkHEC, func(int, []string, int) (int, string, string) {
		return 403, "application/json", `{"text":"Invalid token","code":4}`
	})
	h := start(t, "splunk", settingsWithQueue(typeSplunkHEC, d.settings(), t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(200, 100)))
	d.waitForRequests(t, 5)
	assert.Equal(t, int64(1), h.gauge(t, metricRefusing), "the refusal shows as a metric while it lasts")
	refusals := h.logs.FilterMessageSnippet("Destination refuses the export").All()
	require.Len(t, refusals, 1, "one log line per refusal streak, not per attempt")
	assert.Equal(t, "Invalid token (code 4)", refusals[0].ContextMap()["reason"])
	assert.EqualValues(t, 403, refusals[0].ContextMap()["status"])

	d.setAnswer(func(int, []string, int) (int, string, string) { return 200, "application/json", splunkOK })
	copies := d.waitForIDs(t, 200)
	for id, n := range copies {
		assert.Equal(t, 1, n, "copies of %s", id)
	}
	require.Eventually(t, func() bool { return h.gauge(t, metricRefusing) == 0 }, 5*time.Second, 10*time.Millisecond)
	assert.Len(t, h.logs.FilterMessageSnippet("Destination accepts exports again").All(), 1)
	assert.Empty(t, readLetters(t, h.letters, "splunk"))
}

// TestUpstreamSplunkDropsOnRefusal documents what lossless exists for: the upstream exporter,
// with its own queue and retries, deletes a batch refused with 403 and never delivers it.
func TestUpstreamSplunkDropsOnRefusal(t *testing.T) {
	d := newDestination(t, typeSplunkHEC, func(n int, _ []string, _ int) (int, string, string) {
		if n <= 2 {
			return 403, "application/json", `{"text":"Invalid token","code":4}`
		}
		return 200, "application/json", splunkOK
	})
	factory := splunkhecexporter.NewFactory()
	cfg := factory.CreateDefaultConfig()
	settings := d.settings()
	settings["retry_on_failure"] = map[string]any{"enabled": true, "initial_interval": "10ms", "max_elapsed_time": "0s"}
	require.NoError(t, confmap.NewFromStringMap(settings).Unmarshal(cfg))
	exp, err := factory.CreateLogs(context.Background(), exportertest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeLogs(context.Background(), records(200, 100)))
	d.waitForRequests(t, 1)
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, exp.Shutdown(context.Background()))
	copies, requests := d.snapshot()
	assert.Equal(t, 1, requests, "the refused batch was not tried again")
	assert.Empty(t, copies, "the refused batch is gone")
}

// Every answer that is the configuration's or an outage keeps the events and delivers them once
// the destination takes them: nothing is dead-lettered, nothing dropped.
func TestRefusalsAndOutagesAreRetriedNeverDropped(t *testing.T) {
	html := "<html><head><title>Blocked</title></head></html>"
	cases := []struct {
		status      int
		contentType string
		body        string
	}{
		{400, "text/html", html}, {401, "", ""}, {403, "", ""}, {404, "text/plain", "404 page not found"}, {407, "", ""},
		{408, "", ""}, {429, "", ""}, {500, "", ""}, {502, "", ""}, {503, "", ""}, {504, "", ""},
	}
	for _, kind := range []string{typeSplunkHEC, typeOTLPHTTP} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s %d", kind, c.status), func(t *testing.T) {
				t.Parallel()
				d := newDestination(t, kind, func(n int, _ []string, _ int) (int, string, string) {
					if n <= 2 {
						return c.status, c.contentType, c.body
					}
					return 200, "", ""
				})
				h := start(t, "dest", settingsWithQueue(kind, d.settings(), t.TempDir()))
				require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(20, 50)))
				copies := d.waitForIDs(t, 20)
				for id, n := range copies {
					assert.Equal(t, 1, n, "copies of %s", id)
				}
				assert.Empty(t, readLetters(t, h.letters, "dest"))
			})
		}
	}
}

// One record Splunk refuses for what it is: the batch is split until it is alone; it goes to the
// dead-letter store with HEC's own words; the rest is delivered, once.
func TestPoisonedRecordIsIsolatedAndDeadLettered(t *testing.T) {
	poisoned := func(_ int, ids []string, _ int) (int, string, string) {
		if contains(ids, "id-37") {
			return 400, "application/json", `{"text":"Invalid data format","code":6,"invalid-event-number":0}`
		}
		return 200, "application/json", splunkOK
	}
	d := newDestination(t, typeSplunkHEC, poisoned)
	h := start(t, "splunk", settingsWithQueue(typeSplunkHEC, d.settings(), t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(100, 100)))
	copies := d.waitForIDs(t, 99)
	require.Eventually(t, func() bool { return len(readLetters(t, h.letters, "splunk")) == 1 }, 10*time.Second, 10*time.Millisecond)
	for id, n := range copies {
		assert.Equal(t, 1, n, "copies of %s", id)
	}
	assert.NotContains(t, copies, "id-37")
	l := readLetters(t, h.letters, "splunk")[0]
	assert.Equal(t, "id-37", letterID(t, l))
	assert.Equal(t, 400, l.Status)
	assert.Equal(t, "Invalid data format (code 6)", l.Message)
	assert.Equal(t, "rejected", l.Outcome)
	assert.Equal(t, "lossless/splunk", l.Exporter)
	info, err := os.Stat(filepath.Join(h.letters, "lossless__splunk.ndjson"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(deadLetterFileMode), info.Mode().Perm())
	assert.Equal(t, int64(1), h.gauge(t, metricDeadLettered))

	t.Run("re-driven once the cause is fixed; an unreadable line is kept aside", func(t *testing.T) {
		d.setAnswer(func(int, []string, int) (int, string, string) { return 200, "application/json", splunkOK })
		path := filepath.Join(h.letters, "lossless__splunk.ndjson")
		file, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = file.WriteString("{not a letter\n")
		require.NoError(t, err)
		require.NoError(t, file.Close())
		request := filepath.Join(h.letters, "lossless__splunk.redrive-0001.ndjson")
		require.NoError(t, os.Rename(path, request))
		copies := d.waitForIDs(t, 100)
		assert.Equal(t, 1, copies["id-37"])
		require.Eventually(t, func() bool { _, err := os.Stat(request); return os.IsNotExist(err) }, 5*time.Second, 10*time.Millisecond)
		unreadable, err := os.ReadFile(filepath.Join(h.letters, "lossless__splunk.unreadable.ndjson"))
		require.NoError(t, err)
		assert.Equal(t, "{not a letter\n", string(unreadable))
	})
}

// An OTLP SIEM that answers a partial success: the rejected record is found by splitting and kept.
func TestPartialSuccessIsolatesTheRejectedRecord(t *testing.T) {
	partial, err := func() (string, error) {
		response := plogotlp.NewExportResponse()
		response.PartialSuccess().SetRejectedLogRecords(1)
		response.PartialSuccess().SetErrorMessage("field user.email: not a string")
		body, err := response.MarshalProto()
		return string(body), err
	}()
	require.NoError(t, err)
	d := newDestination(t, typeOTLPHTTP, func(_ int, ids []string, _ int) (int, string, string) {
		if contains(ids, "id-5") {
			return 200, "application/x-protobuf", partial
		}
		return 200, "application/x-protobuf", ""
	})
	h := start(t, "siem", settingsWithQueue(typeOTLPHTTP, d.settings(), t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(64, 50)))
	require.Eventually(t, func() bool { return len(readLetters(t, h.letters, "siem")) == 1 }, 10*time.Second, 10*time.Millisecond)
	letters := readLetters(t, h.letters, "siem")
	assert.Equal(t, "id-5", letterID(t, letters[0]))
	assert.Equal(t, "partial success: 1 record(s) rejected: field user.email: not a string", letters[0].Message)
	copies, _ := d.snapshot()
	extra := 0
	for i := 0; i < 64; i++ {
		id := fmt.Sprintf("id-%d", i)
		require.GreaterOrEqual(t, copies[id], 1, "copies of %s", id)
		extra += copies[id] - 1
	}
	assert.LessOrEqual(t, extra, 64, "at most one batch of duplicates (the accepted records sent again while splitting)")
}

// A batch over the destination's body limit is split until it fits; a record over it on its own
// is dead-lettered as too large.
func TestTooLargeBatchesAreSplit(t *testing.T) {
	const limit = 8 << 10
	d := newDestination(t, typeOTLPHTTP, func(_ int, _ []string, size int) (int, string, string) {
		if size > limit {
			return 413, "text/html", "<html><head><title>413 Request Entity Too Large</title></head></html>"
		}
		return 200, "application/x-protobuf", ""
	})
	h := start(t, "siem", settingsWithQueue(typeOTLPHTTP, d.settings(), t.TempDir()))
	batch := records(100, 300)
	huge := batch.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	huge.Attributes().PutStr(idAttribute, "huge")
	huge.Body().SetStr(strings.Repeat("y", 2*limit))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), batch))
	copies := d.waitForIDs(t, 100)
	require.Eventually(t, func() bool { return len(readLetters(t, h.letters, "siem")) == 1 }, 10*time.Second, 10*time.Millisecond)
	for id, n := range copies {
		assert.Equal(t, 1, n, "copies of %s", id)
	}
	l := readLetters(t, h.letters, "siem")[0]
	assert.Equal(t, "huge", letterID(t, l))
	assert.Equal(t, "too large", l.Outcome)
	assert.Equal(t, 413, l.Status)
	assert.Equal(t, "an HTML page (413 Request Entity Too Large)", l.Message)
}

// Without a queue (a gateway that answers only once the destination took the events, a Kafka
// consumer), a refusal comes back as a retryable error: the receiver answers 503 and the sender
// tries again, instead of a permanent error that would drop the request.
func TestWithoutQueueRefusalsAreRetryableErrors(t *testing.T) {
	d := newDestination(t, typeSplunkHEC, func(int, []string, int) (int, string, string) {
		return 403, "application/json", `{"text":"Invalid token","code":4}`
	})
	settings := settingsWithQueue(typeSplunkHEC, d.settings(), t.TempDir())
	settings["sending_queue"] = map[string]any{"enabled": false}
	settings["retry_on_failure"] = map[string]any{"enabled": false}
	h := start(t, "splunk", settings)
	err := h.exporter.ConsumeLogs(context.Background(), records(10, 10))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err), "a refusal must not be a permanent error: %v", err)
	assert.Contains(t, err.Error(), "Invalid token (code 4)")
}

// When the dead-letter store cannot be written, the refused record is not dropped: the attempt
// fails and the record stays with the sender until the store works.
func TestUnwritableDeadLetterStoreKeepsTheRecord(t *testing.T) {
	d := newDestination(t, typeSplunkHEC, func(int, []string, int) (int, string, string) {
		return 400, "application/json", `{"text":"Invalid data format","code":6}`
	})
	blocked := filepath.Join(t.TempDir(), "not-a-directory")
	require.NoError(t, os.WriteFile(blocked, nil, 0o600))
	settings := settingsWithQueue(typeSplunkHEC, d.settings(), blocked)
	settings["sending_queue"] = map[string]any{"enabled": false}
	settings["retry_on_failure"] = map[string]any{"enabled": false}
	h := start(t, "splunk", settings)
	err := h.exporter.ConsumeLogs(context.Background(), records(1, 10))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "cannot write the dead-letter store")

	require.NoError(t, os.Remove(blocked))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(1, 10)))
	assert.Len(t, readLetters(t, blocked, "splunk"), 1)
}

// The wrapped exporter's "Exporting failed. Rejecting data." (exporterhelper's line for an exporter
// without a queue) is not logged: nothing is rejected, and lossless says what happened itself.
func TestNoRejectionLinesFromTheWrappedExporter(t *testing.T) {
	d := newDestination(t, typeSplunkHEC, func(n int, _ []string, _ int) (int, string, string) {
		if n <= 2 {
			return 403, "application/json", `{"text":"Invalid token","code":4}`
		}
		return 200, "application/json", splunkOK
	})
	h := start(t, "splunk", settingsWithQueue(typeSplunkHEC, d.settings(), t.TempDir()))
	require.NoError(t, h.exporter.ConsumeLogs(context.Background(), records(5, 10)))
	d.waitForIDs(t, 5)
	assert.Empty(t, h.logs.FilterMessageSnippet("Rejecting data").All())
	assert.Len(t, h.logs.FilterMessageSnippet("Destination refuses the export").All(), 1)
}
