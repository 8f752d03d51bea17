// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

/*
The dead-letter store of one exporter, in dead_letter::directory:

	<name>.ndjson                one line per record the destination refused for good (letter)
	<name>.redrive-<t>.ndjson    a re-drive request: the dead-letter file renamed (atomically) by
	                             `otel-audit gateway dead-letters --redrive` or the Admin Panel; the
	                             exporter puts its records back in its queue, then deletes it
	<name>.unreadable.ndjson     lines of a re-drive file that could not be read, kept as they were

<name> is the exporter's id with "/" written as "__" (lossless/splunk: lossless__splunk).

A letter:

	{"time": "2026-12-05T10:00:00.123Z", "exporter": "lossless/splunk", "wrapped": "splunk_hec",
	 "outcome": "rejected", "status": 400, "message": "Invalid data format (code 6)",
	 "record": <an OTLP/JSON ExportLogsServiceRequest holding the one record, with its resource and scope>}

Each letter is one write of one line, then fsync, on a file opened for that letter alone: a rename
by a re-drive request never loses a letter written after it (it goes to a new <name>.ndjson).
*/

const (
	deadLetterDirMode  = 0o700
	deadLetterFileMode = 0o600
	// maxLetterBytes bounds one line read back from a re-drive file (a record is at most the
	// destination's own limit; a longer line is kept as unreadable).
	maxLetterBytes = 64 << 20
)

// letter is one line of a dead-letter file.
type letter struct {
	Time     string          `json:"time"`
	Exporter string          `json:"exporter"`
	Wrapped  string          `json:"wrapped"`
	Outcome  string          `json:"outcome"`
	Status   int             `json:"status,omitempty"`
	Message  string          `json:"message"`
	Record   json.RawMessage `json:"record"`
}

// deadLetters is the store of one exporter.
type deadLetters struct {
	dir      string
	name     string
	exporter string
	wrapped  string
	mu       sync.Mutex
	now      func() time.Time
}

func newDeadLetters(dir, exporterID, wrapped string) *deadLetters {
	return &deadLetters{
		dir:      dir,
		name:     strings.ReplaceAll(exporterID, "/", "__"),
		exporter: exporterID,
		wrapped:  wrapped,
		now:      time.Now,
	}
}

func (d *deadLetters) path() string { return filepath.Join(d.dir, d.name+".ndjson") }

// keep writes one letter per record of ld durably; an error means nothing can be promised kept (the
// caller keeps the records queued and tries again).
func (d *deadLetters) keep(ld plog.Logs, v verdict) error {
	return d.write(d.path(), ld, v)
}

func (d *deadLetters) write(path string, ld plog.Logs, v verdict) error {
	lines, err := d.letters(ld, v)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(d.dir, deadLetterDirMode); err != nil {
		return err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, deadLetterFileMode)
	if err != nil {
		return err
	}
	_, writeErr := file.Write(lines)
	syncErr := file.Sync()
	closeErr := file.Close()
	return errors.Join(writeErr, syncErr, closeErr)
}

func (d *deadLetters) letters(ld plog.Logs, v verdict) ([]byte, error) {
	var out bytes.Buffer
	marshaler := plog.JSONMarshaler{}
	for _, one := range splitRecords(ld) {
		record, err := marshaler.MarshalLogs(one)
		if err != nil {
			return nil, err
		}
		line, err := json.Marshal(letter{
			Time:     d.now().UTC().Format(time.RFC3339Nano),
			Exporter: d.exporter,
			Wrapped:  d.wrapped,
			Outcome:  v.outcome.String(),
			Status:   v.status,
			Message:  v.message,
			Record:   record,
		})
		if err != nil {
			return nil, err
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// redriveFiles are this exporter's pending re-drive requests, oldest first.
func (d *deadLetters) redriveFiles() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(d.dir, d.name+".redrive-*.ndjson"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	return matches, nil
}

// span is a byte range of a file: a line that could not be read.
type span struct{ start, end int64 }

// readRedrive reads a re-drive file: the records of its readable letters, and where its unreadable
// lines are (kept as they were by keepUnreadable, however long).
func readRedrive(path string) ([]plog.Logs, []span, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer file.Close()
	var records []plog.Logs
	var unreadable []span
	reader := bufio.NewReaderSize(file, 64<<10)
	unmarshaler := plog.JSONUnmarshaler{}
	var offset int64
	for {
		line, length, tooLong, err := readLine(reader, maxLetterBytes)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, err
		}
		if length > 0 {
			where := span{offset, offset + length}
			switch {
			case tooLong:
				unreadable = append(unreadable, where)
			case len(bytes.TrimSpace(line)) == 0:
			default:
				if ld, ok := letterRecords(line, &unmarshaler); ok {
					records = append(records, ld)
				} else {
					unreadable = append(unreadable, where)
				}
			}
		}
		offset += length
		if errors.Is(err, io.EOF) {
			return records, unreadable, nil
		}
	}
}

func letterRecords(line []byte, unmarshaler *plog.JSONUnmarshaler) (plog.Logs, bool) {
	var l letter
	if json.Unmarshal(line, &l) != nil || len(l.Record) == 0 {
		return plog.Logs{}, false
	}
	ld, err := unmarshaler.UnmarshalLogs(l.Record)
	if err != nil || ld.LogRecordCount() == 0 {
		return plog.Logs{}, false
	}
	return ld, true
}

// readLine reads one line: its content (nil when longer than limit), the bytes it took in the file
// (its newline included) and whether it was too long; io.EOF at the end of the file.
func readLine(reader *bufio.Reader, limit int) ([]byte, int64, bool, error) {
	var line []byte
	var length int64
	tooLong := false
	for {
		chunk, err := reader.ReadSlice('\n')
		length += int64(len(chunk))
		if !tooLong {
			if len(line)+len(chunk) > limit {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), length, tooLong, err
	}
}

// keepUnreadable appends the unreadable lines of a re-drive file, unchanged, to <name>.unreadable.ndjson.
func (d *deadLetters) keepUnreadable(path string, lines []span) error {
	if len(lines) == 0 {
		return nil
	}
	source, err := os.Open(path)
	if err != nil {
		return err
	}
	defer source.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	file, err := os.OpenFile(filepath.Join(d.dir, d.name+".unreadable.ndjson"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, deadLetterFileMode)
	if err != nil {
		return err
	}
	var copyErr error
	for _, line := range lines {
		if _, copyErr = io.Copy(file, io.NewSectionReader(source, line.start, line.end-line.start)); copyErr != nil {
			break
		}
	}
	return errors.Join(copyErr, file.Sync(), file.Close())
}

// splitRecords gives each record of ld as a plog.Logs of its own, with its resource and scope.
func splitRecords(ld plog.Logs) []plog.Logs {
	out := make([]plog.Logs, 0, ld.LogRecordCount())
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				one := plog.NewLogs()
				orl := one.ResourceLogs().AppendEmpty()
				rl.Resource().CopyTo(orl.Resource())
				orl.SetSchemaUrl(rl.SchemaUrl())
				osl := orl.ScopeLogs().AppendEmpty()
				sl.Scope().CopyTo(osl.Scope())
				osl.SetSchemaUrl(sl.SchemaUrl())
				sl.LogRecords().At(k).CopyTo(osl.LogRecords().AppendEmpty())
				out = append(out, one)
			}
		}
	}
	return out
}
