// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

// losslessExporter runs one wrapped exporter under its own queue and retries.
type losslessExporter struct {
	set      exporter.Settings
	kind     string // the wrapped exporter's type, canonical
	name     string // the wrapped exporter's type as configured
	settings map[string]any
	factory  exporter.Factory
	health   *health
	letters  *deadLetters
	// archive is set when the wrapped exporter writes a file (file): a failed write is cut back
	// (archive.go).
	archive *archiveFile
	// relayed is set when the wrapped exporter writes syslog over TCP, which acknowledges nothing:
	// relay confirms each batch (relay.go).
	relayed bool
	relay   *syslogRelay
	// self is this exporter as the pipeline sees it: re-driven records go through its queue.
	self exporter.Logs

	mu      sync.RWMutex // guards wrapped: a failed archive write restarts the wrapped exporter
	wrapped exporter.Logs
	host    component.Host
	// serial makes the attempts of an archive or a relayed syslog exporter one at a time: the cut of
	// a failed write, and the relay's connections of an attempt, need it.
	serial sync.Mutex

	redriveEvery time.Duration
	stop         chan struct{}
	done         sync.WaitGroup
}

func newLosslessExporter(set exporter.Settings, cfg *Config) (*losslessExporter, error) {
	name, settings, err := cfg.wrappedType()
	if err != nil {
		return nil, err
	}
	kind := canonicalType(name)
	h, err := newHealth(set.TelemetrySettings, set.ID.String(), kind, cfg.Refusal.RepeatEvery)
	if err != nil {
		return nil, err
	}
	e := &losslessExporter{
		set:          set,
		kind:         kind,
		name:         name,
		settings:     settings,
		factory:      wrappedFactories()[name],
		health:       h,
		letters:      newDeadLetters(cfg.DeadLetter.Directory, set.ID.String(), kind),
		redriveEvery: cfg.DeadLetter.RedriveInterval,
		stop:         make(chan struct{}),
	}
	switch kind {
	case typeFile:
		path, _ := settings["path"].(string)
		compression, _ := settings["compression"].(string)
		e.archive = &archiveFile{path: path, framed: compression != ""}
	case typeSyslog:
		// Over TCP only (the exporter's default): UDP carries no connection to watch, and a Unix
		// socket is a local daemon's.
		network, _ := settings["network"].(string)
		e.relayed = network == "" || strings.EqualFold(network, "tcp")
	}
	return e, nil
}

// createWrapped makes a new instance of the wrapped exporter (a fresh configuration each time: the
// file exporter shares its instances by configuration).
func (e *losslessExporter) createWrapped(ctx context.Context) (exporter.Logs, error) {
	settings := e.settings
	if e.relay != nil {
		settings = throughRelay(settings, e.relay.port())
	}
	cfg, err := wrappedConfig(e.name, settings)
	if err != nil {
		return nil, err
	}
	set := e.set
	set.ID = component.NewIDWithName(e.factory.Type(), e.set.ID.Name())
	set.Logger = zap.New(withoutRejectionLines(e.set.Logger.Core())).With(zap.String("wrapped", set.ID.String()))
	return e.factory.CreateLogs(ctx, set, cfg)
}

func (e *losslessExporter) start(ctx context.Context, host component.Host) error {
	e.host = wrappedHost{Host: host}
	if e.relayed {
		relay, err := startRelayFor(ctx, e.name, e.settings, e.set.Logger)
		if err != nil {
			return err
		}
		e.relay = relay
	}
	if e.archive != nil {
		removed, err := e.archive.repairTail()
		if err != nil {
			return fmt.Errorf("cannot check the end of %s: %w", e.archive.path, err)
		}
		if removed > 0 {
			e.set.Logger.Warn("Cut a torn write at the end of the file (a crash or a full disk interrupted it; its batch is written again from the queue)",
				zap.String("path", e.archive.path), zap.Int64("bytes", removed))
		}
	}
	wrapped, err := e.createWrapped(ctx)
	if err != nil {
		return err
	}
	if err := wrapped.Start(ctx, e.host); err != nil {
		return err
	}
	e.mu.Lock()
	e.wrapped = wrapped
	e.mu.Unlock()
	e.done.Add(1)
	go e.redriveLoop()
	return nil
}

func (e *losslessExporter) shutdown(ctx context.Context) error {
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	e.done.Wait()
	e.mu.RLock()
	wrapped := e.wrapped
	e.mu.RUnlock()
	var err error
	if wrapped != nil {
		err = wrapped.Shutdown(ctx)
	}
	if e.relay != nil {
		e.relay.close()
	}
	return errors.Join(err, e.health.shutdown())
}

// push delivers one batch from the queue: nil when every record is delivered or dead-lettered;
// otherwise a retryable error naming the records still to send (exporterhelper retries only those).
func (e *losslessExporter) push(ctx context.Context, ld plog.Logs) error {
	failed := plog.NewLogs()
	err := e.deliver(ctx, ld, failed)
	if err == nil {
		return nil
	}
	if failed.LogRecordCount() == ld.LogRecordCount() {
		return err
	}
	return consumererror.NewLogs(err, failed)
}

// deliver sends ld; a batch the destination rejects records of, or that is too large, is split
// in halves until each such record is alone, and that record goes to the dead-letter store. What
// cannot be delivered now (a refusal, an outage) is appended to failed, with the error.
func (e *losslessExporter) deliver(ctx context.Context, ld plog.Logs, failed plog.Logs) error {
	return e.settle(ctx, ld, e.attempt(ctx, ld), failed)
}

// settle acts on the verdict v of an attempt of ld.
func (e *losslessExporter) settle(ctx context.Context, ld plog.Logs, v verdict, failed plog.Logs) error {
	switch v.outcome {
	case delivered:
		e.health.accepted()
		return nil
	case rejected, tooLarge:
		e.health.accepted()
		if ld.LogRecordCount() <= 1 {
			return e.deadLetter(ctx, ld, v, failed)
		}
		e.health.splits.Add(ctx, 1, e.health.attributes)
		first, second := halves(ld)
		if v.rejectedCount > 0 {
			return e.isolate(ctx, first, second, v, failed)
		}
		if err := e.deliver(ctx, first, failed); err != nil {
			second.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
			return err
		}
		return e.deliver(ctx, second, failed)
	case refused:
		e.health.refused(ctx, v)
		ld.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
		return retryable(fmt.Errorf("%s refused the export (%s); the events stay queued and are retried", e.kind, describeVerdict(v)), v.retryAfter)
	default:
		ld.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
		return retryable(fmt.Errorf("%s is unavailable (%s); the events stay queued and are retried", e.kind, describeVerdict(v)), v.retryAfter)
	}
}

// isolate finds the v.rejectedCount records of first+second the destination refused while it took
// the others (a partial success): only one half is sent at each step, and a half known to hold
// nothing but delivered records and refused ones is split without being sent again, so the records
// the destination already took arrive again at most once in all.
func (e *losslessExporter) isolate(ctx context.Context, first, second plog.Logs, v verdict, failed plog.Logs) error {
	firstVerdict := e.attempt(ctx, first)
	if firstVerdict.outcome == delivered {
		e.health.accepted()
		// Every refused record is in second, whose other records were delivered.
		return e.settle(ctx, second, v, failed)
	}
	if err := e.settle(ctx, first, firstVerdict, failed); err != nil {
		second.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
		return err
	}
	if firstVerdict.outcome == rejected && firstVerdict.rejectedCount > 0 {
		remaining := v
		remaining.rejectedCount -= firstVerdict.rejectedCount
		if remaining.rejectedCount <= 0 {
			return nil
		}
		return e.settle(ctx, second, remaining, failed)
	}
	// first told nothing about second: send it.
	return e.deliver(ctx, second, failed)
}

func retryable(err error, retryAfter time.Duration) error {
	if retryAfter > 0 {
		return exporterhelper.NewThrottleRetry(err, retryAfter)
	}
	return err
}

func describeVerdict(v verdict) string {
	if v.status != 0 {
		return fmt.Sprintf("HTTP %d: %s", v.status, v.message)
	}
	return v.message
}

// deadLetter keeps one record the destination refused for good. If the store cannot be written,
// the record stays queued (it is not delivered, and not dropped).
func (e *losslessExporter) deadLetter(ctx context.Context, ld plog.Logs, v verdict, failed plog.Logs) error {
	if err := e.letters.keep(ld, v); err != nil {
		ld.ResourceLogs().MoveAndAppendTo(failed.ResourceLogs())
		return fmt.Errorf("cannot write the dead-letter store %s (%w); the record stays queued", e.letters.path(), err)
	}
	e.health.deadLettered.Add(ctx, int64(ld.LogRecordCount()), e.health.attributes)
	e.set.Logger.Warn("Record refused for good by the destination; kept in the dead-letter store (re-drive it once the cause is fixed)",
		zap.String("destination", e.set.ID.String()),
		zap.String("outcome", v.outcome.String()),
		zap.Int("status", v.status),
		zap.String("reason", v.message),
		zap.String("store", e.letters.path()))
	return nil
}

// attempt sends ld once through the wrapped exporter and judges the result.
func (e *losslessExporter) attempt(ctx context.Context, ld plog.Logs) verdict {
	if e.archive != nil || e.relay != nil {
		e.serial.Lock()
		defer e.serial.Unlock()
	}
	e.mu.RLock()
	wrapped := e.wrapped
	e.mu.RUnlock()
	if wrapped == nil {
		return verdict{outcome: unavailable, message: "not started"}
	}
	if e.relay != nil {
		return e.attemptSyslog(ctx, wrapped, ld)
	}
	var answers exchanges
	var before mark
	if e.archive != nil {
		before = e.archive.mark()
	}
	err := wrapped.ConsumeLogs(withExchanges(ctx, &answers), ld)
	if err != nil && e.archive != nil {
		e.cutArchive(ctx, before, err)
	}
	return judge(e.kind, err, answers.list())
}

// attemptSyslog sends ld through the relay, which says whether the receiver confirmed it.
func (e *losslessExporter) attemptSyslog(ctx context.Context, wrapped exporter.Logs, ld plog.Logs) verdict {
	from := e.relay.mark()
	if err := wrapped.ConsumeLogs(ctx, ld); err != nil {
		// The relay's outcome says why better than the exporter's error.
		if relayed := e.relay.outcome(ctx, from, false); relayed != nil {
			err = relayed
		}
		return judge(e.kind, err, nil)
	}
	if err := e.relay.outcome(ctx, from, ld.LogRecordCount() > 0); err != nil {
		return judge(e.kind, err, nil)
	}
	return verdict{outcome: delivered}
}

// cutArchive removes what a failed write left in the file and restarts the wrapped file exporter,
// whose file offset would otherwise point past the cut.
func (e *losslessExporter) cutArchive(ctx context.Context, before mark, cause error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.wrapped.Shutdown(ctx); err != nil {
		e.set.Logger.Debug("The file exporter's shutdown after a failed write reported an error", zap.Error(err))
	}
	e.wrapped = nil
	removed, err := e.archive.cut(before)
	switch {
	case err != nil:
		e.set.Logger.Error("Cannot cut a failed write out of the file; readers skip the torn frame", zap.String("path", e.archive.path), zap.Error(err))
	case removed > 0:
		e.set.Logger.Warn("Cut a failed write out of the file; its batch stays queued and is written again",
			zap.String("path", e.archive.path), zap.Int64("bytes", removed), zap.NamedError("cause", cause))
	}
	wrapped, err := e.createWrapped(ctx)
	if err == nil {
		err = wrapped.Start(ctx, e.host)
	}
	if err != nil {
		e.set.Logger.Error("Cannot restart the file exporter; retrying at the next attempt", zap.Error(err))
		return
	}
	e.wrapped = wrapped
}

// halves splits ld into two batches of (nearly) equal record counts, keeping resources and scopes.
func halves(ld plog.Logs) (plog.Logs, plog.Logs) {
	first, second := plog.NewLogs(), plog.NewLogs()
	half := ld.LogRecordCount() / 2
	seen := 0
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				target := first
				if seen >= half {
					target = second
				}
				seen++
				appendRecord(target, rl, sl, sl.LogRecords().At(k))
			}
		}
	}
	return first, second
}

// appendRecord copies one record into out under a copy of its resource and scope (the last ones of
// out when they are the same as the record's).
func appendRecord(out plog.Logs, rl plog.ResourceLogs, sl plog.ScopeLogs, record plog.LogRecord) {
	resources := out.ResourceLogs()
	var orl plog.ResourceLogs
	if resources.Len() > 0 && resources.At(resources.Len()-1).Resource().Attributes().Equal(rl.Resource().Attributes()) {
		orl = resources.At(resources.Len() - 1)
	} else {
		orl = resources.AppendEmpty()
		rl.Resource().CopyTo(orl.Resource())
		orl.SetSchemaUrl(rl.SchemaUrl())
	}
	scopes := orl.ScopeLogs()
	var osl plog.ScopeLogs
	if scopes.Len() > 0 && scopes.At(scopes.Len()-1).Scope().Name() == sl.Scope().Name() && scopes.At(scopes.Len()-1).Scope().Version() == sl.Scope().Version() {
		osl = scopes.At(scopes.Len() - 1)
	} else {
		osl = scopes.AppendEmpty()
		sl.Scope().CopyTo(osl.Scope())
		osl.SetSchemaUrl(sl.SchemaUrl())
	}
	record.CopyTo(osl.LogRecords().AppendEmpty())
}

// redriveLoop puts the records of re-drive files back in this exporter's queue, at start and every
// redriveEvery.
func (e *losslessExporter) redriveLoop() {
	defer e.done.Done()
	ticker := time.NewTicker(e.redriveEvery)
	defer ticker.Stop()
	for {
		e.redrive()
		select {
		case <-e.stop:
			return
		case <-ticker.C:
		}
	}
}

// redrive handles every pending re-drive file: its records go into the queue (a file whose records
// cannot all be queued now stays, and is tried again); its unreadable lines are kept aside.
func (e *losslessExporter) redrive() {
	files, err := e.letters.redriveFiles()
	if err != nil {
		e.set.Logger.Error("Cannot list re-drive requests", zap.Error(err))
		return
	}
	for _, path := range files {
		records, unreadable, err := readRedrive(path)
		if err != nil {
			e.set.Logger.Error("Cannot read a re-drive request; it stays for the next try", zap.String("path", path), zap.Error(err))
			continue
		}
		batch := plog.NewLogs()
		for _, ld := range records {
			ld.ResourceLogs().MoveAndAppendTo(batch.ResourceLogs())
		}
		if batch.LogRecordCount() > 0 {
			if err := e.self.ConsumeLogs(context.Background(), batch); err != nil {
				e.set.Logger.Warn("Cannot queue re-driven records now; the request stays for the next try", zap.String("path", path), zap.Error(err))
				continue
			}
		}
		if err := e.letters.keepUnreadable(path, unreadable); err != nil {
			e.set.Logger.Error("Cannot keep the unreadable lines of a re-drive request; it stays", zap.String("path", path), zap.Error(err))
			continue
		}
		if err := os.Remove(path); err != nil {
			e.set.Logger.Error("Cannot remove a handled re-drive request (its records may be sent twice)", zap.String("path", path), zap.Error(err))
		}
		e.health.redriven.Add(context.Background(), int64(len(records)), e.health.attributes)
		e.set.Logger.Info("Re-drove dead-lettered records into the queue",
			zap.String("destination", e.set.ID.String()), zap.Int("records", len(records)), zap.Int("unreadable_lines", len(unreadable)))
	}
}
