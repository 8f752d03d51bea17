// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// Metric names: alert on otelcol_lossless_refusing (a destination that refuses, with
// otelcol_lossless_refusing_since_seconds saying since when) and on
// otelcol_lossless_dead_lettered_log_records (records kept out of a destination).
const (
	metricRefusing      = "otelcol_lossless_refusing"
	metricRefusingSince = "otelcol_lossless_refusing_since_seconds"
	metricRefusals      = "otelcol_lossless_refusals"
	metricDeadLettered  = "otelcol_lossless_dead_lettered_log_records"
	metricSplits        = "otelcol_lossless_split_batches"
	metricRedriven      = "otelcol_lossless_redriven_log_records"
)

// health tracks a destination's refusal streak and reports it: one log line when it begins (and
// again every repeatEvery while it lasts), one when the destination accepts again, and the metrics.
type health struct {
	logger      *zap.Logger
	exporter    string
	wrapped     string
	repeatEvery time.Duration
	now         func() time.Time

	mu        sync.Mutex
	since     time.Time // zero while the destination does not refuse
	lastLog   time.Time
	lastState verdict
	refusals  int64

	refusalCounter metric.Int64Counter
	deadLettered   metric.Int64Counter
	splits         metric.Int64Counter
	redriven       metric.Int64Counter
	attributes     metric.MeasurementOption
	registration   metric.Registration
}

func newHealth(set component.TelemetrySettings, exporterID, wrapped string, repeatEvery time.Duration) (*health, error) {
	h := &health{
		logger:      set.Logger,
		exporter:    exporterID,
		wrapped:     wrapped,
		repeatEvery: repeatEvery,
		now:         time.Now,
		attributes:  metric.WithAttributes(attribute.String("exporter", exporterID)),
	}
	meter := set.MeterProvider.Meter("github.com/otel-audit/otel-audit/collector/losslessexporter")
	var err error
	if h.refusalCounter, err = meter.Int64Counter(metricRefusals, metric.WithDescription("Attempts the destination refused (its configuration, not the records); the batch stays queued."), metric.WithUnit("{attempts}")); err != nil {
		return nil, err
	}
	if h.deadLettered, err = meter.Int64Counter(metricDeadLettered, metric.WithDescription("Records the destination refused for good, kept in the dead-letter store."), metric.WithUnit("{records}")); err != nil {
		return nil, err
	}
	if h.splits, err = meter.Int64Counter(metricSplits, metric.WithDescription("Batches split in halves to isolate records the destination rejects or to fit its size limit."), metric.WithUnit("{batches}")); err != nil {
		return nil, err
	}
	if h.redriven, err = meter.Int64Counter(metricRedriven, metric.WithDescription("Dead-lettered records put back in the queue by a re-drive request."), metric.WithUnit("{records}")); err != nil {
		return nil, err
	}
	refusing, err := meter.Int64ObservableGauge(metricRefusing, metric.WithDescription("1 while the destination refuses exports (events wait in the queue), else 0."))
	if err != nil {
		return nil, err
	}
	since, err := meter.Float64ObservableGauge(metricRefusingSince, metric.WithDescription("When the current refusal began (Unix time), 0 while the destination does not refuse."), metric.WithUnit("s"))
	if err != nil {
		return nil, err
	}
	observe := metric.WithAttributes(attribute.String("exporter", exporterID))
	h.registration, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		h.mu.Lock()
		began := h.since
		h.mu.Unlock()
		if began.IsZero() {
			o.ObserveInt64(refusing, 0, observe)
			o.ObserveFloat64(since, 0, observe)
		} else {
			o.ObserveInt64(refusing, 1, observe)
			o.ObserveFloat64(since, float64(began.UnixNano())/1e9, observe)
		}
		return nil
	}, refusing, since)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// refused records an attempt the destination refused; queued is what waits in the queue now.
func (h *health) refused(ctx context.Context, v verdict) {
	h.refusalCounter.Add(ctx, 1, h.attributes)
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	h.refusals++
	changed := v.status != h.lastState.status || v.message != h.lastState.message
	if h.since.IsZero() {
		h.since = now
	} else if !changed && now.Sub(h.lastLog) < h.repeatEvery {
		return
	}
	h.lastLog = now
	h.lastState = v
	h.logger.Warn("Destination refuses the export; its events stay queued and are retried until it accepts them (nothing is dropped)",
		zap.String("destination", h.exporter),
		zap.String("wrapped", h.wrapped),
		zap.Int("status", v.status),
		zap.String("reason", v.message),
		zap.Time("since", h.since),
		zap.Int64("attempts", h.refusals))
}

// accepted records an answer that is not a refusal: a refusal streak, if any, has ended.
func (h *health) accepted() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.since.IsZero() {
		return
	}
	h.logger.Info("Destination accepts exports again",
		zap.String("destination", h.exporter),
		zap.String("wrapped", h.wrapped),
		zap.Duration("refused_for", h.now().Sub(h.since)),
		zap.Int64("attempts_refused", h.refusals))
	h.since = time.Time{}
	h.lastState = verdict{}
	h.refusals = 0
}

func (h *health) shutdown() error {
	if h.registration == nil {
		return nil
	}
	return h.registration.Unregister()
}
