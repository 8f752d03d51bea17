// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

// captureID names the HTTP client middleware that lets an attempt read the destination's own
// answers: the wrapped exporter's settings get `middlewares: [{id: lossless_capture}]` and its
// host (wrappedHost) resolves that id to captureMiddleware. Upstream exporters turn an answer into
// an error string without its body ("HTTP 403 Forbidden"); the body says why ("Invalid token",
// "Invalid data format", an OTLP Status, the per-document errors of an Elasticsearch bulk).
var captureID = component.MustNewID("lossless_capture")

// maxCapturedBody bounds what is kept of one answer's body: enough for any error message or
// partial-success answer; the exporter still reads the whole body.
const maxCapturedBody = 64 << 10

// exchange is one HTTP answer the wrapped exporter received during an attempt.
type exchange struct {
	status      int
	contentType string
	retryAfter  string
	body        []byte
	// bodyTruncated says the body was longer than maxCapturedBody.
	bodyTruncated bool
}

// exchanges collects the answers of one attempt (an exporter may send several requests per batch).
type exchanges struct {
	mu  sync.Mutex
	all []exchange
}

func (x *exchanges) add(e exchange) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.all = append(x.all, e)
}

func (x *exchanges) list() []exchange {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]exchange(nil), x.all...)
}

type exchangesKey struct{}

// withExchanges returns a context whose HTTP requests record their answers in x.
func withExchanges(ctx context.Context, x *exchanges) context.Context {
	return context.WithValue(ctx, exchangesKey{}, x)
}

// captureMiddleware is the round tripper wrapper behind captureID.
type captureMiddleware struct {
	component.StartFunc
	component.ShutdownFunc
}

var _ extensionmiddleware.HTTPClient = captureMiddleware{}

func (captureMiddleware) GetHTTPRoundTripper(base http.RoundTripper) (http.RoundTripper, error) {
	return captureRoundTripper{base: base}, nil
}

type captureRoundTripper struct{ base http.RoundTripper }

func (rt captureRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	x, ok := req.Context().Value(exchangesKey{}).(*exchanges)
	if err != nil || !ok || resp == nil {
		return resp, err
	}
	captured := exchange{
		status:      resp.StatusCode,
		contentType: resp.Header.Get("Content-Type"),
		retryAfter:  resp.Header.Get("Retry-After"),
	}
	if resp.Body != nil {
		head, readErr := io.ReadAll(io.LimitReader(resp.Body, maxCapturedBody+1))
		captured.body = head
		if len(head) > maxCapturedBody {
			captured.body = head[:maxCapturedBody]
			captured.bodyTruncated = true
		}
		// The exporter reads the answer as if nothing had read it first.
		resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), errReader{readErr}, resp.Body), closer: resp.Body}
	}
	x.add(captured)
	return resp, nil
}

type readCloser struct {
	io.Reader
	closer io.Closer
}

func (r readCloser) Close() error { return r.closer.Close() }

// errReader passes on an error met while capturing the body (nil: nothing to pass on).
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// wrappedHost is the host the wrapped exporter starts with: the Collector's, plus the capture middleware.
type wrappedHost struct {
	component.Host
}

func (h wrappedHost) GetExtensions() map[component.ID]component.Component {
	extensions := map[component.ID]component.Component{}
	for id, ext := range h.Host.GetExtensions() {
		extensions[id] = ext
	}
	extensions[captureID] = captureMiddleware{}
	return extensions
}
