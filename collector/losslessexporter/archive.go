// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter // import "github.com/otel-audit/otel-audit/collector/losslessexporter"

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
)

// archiveFile keeps a file exporter's output whole. The file exporter writes each batch in one
// call; on a full disk the call can write part of it and fail, and the batch (kept in the queue)
// is written again after the part: a reader would meet a torn frame between two whole ones. Before
// each write the file's size is noted; after a failed write the file is cut back to it. At start,
// what a crash left torn at the end of the file is cut likewise.
//
// Formats of the file exporter:
//   - framed (`compression` set): repeated [length u32 big-endian][frame of that length];
//   - lines (no compression, `format: json`): one JSON document per line, "\n"-terminated.
type archiveFile struct {
	path   string
	framed bool
}

// mark is where a write starts: the file as it was (nil when it did not exist) and its size.
type mark struct {
	info os.FileInfo
	size int64
}

func (a *archiveFile) mark() mark {
	info, err := os.Stat(a.path)
	if err != nil {
		return mark{}
	}
	return mark{info: info, size: info.Size()}
}

// cut removes what a failed write added to the file that was there at m; it returns the bytes
// removed. A file rotated in between (another file at the path) is left alone.
func (a *archiveFile) cut(m mark) (int64, error) {
	now, err := os.Stat(a.path)
	if err != nil {
		return 0, nil
	}
	if m.info == nil {
		// The write created the file: whatever it holds is the torn batch.
		if now.Size() == 0 {
			return 0, nil
		}
		return now.Size(), os.Truncate(a.path, 0)
	}
	if !os.SameFile(m.info, now) || now.Size() <= m.size {
		return 0, nil
	}
	return now.Size() - m.size, os.Truncate(a.path, m.size)
}

// repairTail cuts a torn last frame or line (a crash in the middle of a write); it returns the
// bytes removed. A damaged frame in the middle of the file is left for the reader to report.
func (a *archiveFile) repairTail() (int64, error) {
	file, err := os.Open(a.path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return 0, err
	}
	var whole int64
	if a.framed {
		whole, err = wholeFrames(file, info.Size())
	} else {
		whole, err = wholeLines(file)
	}
	file.Close()
	if err != nil || whole >= info.Size() {
		return 0, err
	}
	return info.Size() - whole, os.Truncate(a.path, whole)
}

// wholeFrames walks the length prefixes and returns the end of the last frame that fits the file.
func wholeFrames(file *os.File, size int64) (int64, error) {
	var header [4]byte
	var at int64
	for at+4 <= size {
		if _, err := file.ReadAt(header[:], at); err != nil {
			return at, err
		}
		next := at + 4 + int64(binary.BigEndian.Uint32(header[:]))
		if next > size {
			return at, nil
		}
		at = next
	}
	return at, nil
}

// wholeLines returns the end of the last "\n"-terminated line.
func wholeLines(file *os.File) (int64, error) {
	reader := bufio.NewReaderSize(file, 64<<10)
	var at, end int64
	for {
		chunk, err := reader.ReadSlice('\n')
		at += int64(len(chunk))
		if bytes.HasSuffix(chunk, []byte("\n")) {
			end = at
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return end, nil
		default:
			return end, err
		}
	}
}
