// Copyright The otel-audit Authors
// SPDX-License-Identifier: Apache-2.0

package losslessexporter

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func frame(payload string) []byte {
	out := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(out, uint32(len(payload)))
	return append(out, payload...)
}

func TestArchiveCutRemovesAFailedWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.zst")
	whole := append(frame("first"), frame("second")...)
	require.NoError(t, os.WriteFile(path, whole, 0o600))
	a := &archiveFile{path: path, framed: true}
	before := a.mark()
	file, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = file.Write(frame("third, cut short by a full disk")[:9])
	require.NoError(t, err)
	require.NoError(t, file.Close())

	removed, err := a.cut(before)
	require.NoError(t, err)
	assert.Equal(t, int64(9), removed)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, whole, data)
}

func TestArchiveCutLeavesARotatedFileAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.zst")
	require.NoError(t, os.WriteFile(path, frame("old"), 0o600))
	a := &archiveFile{path: path, framed: true}
	before := a.mark()
	require.NoError(t, os.Rename(path, filepath.Join(dir, "audit-1.zst")))
	require.NoError(t, os.WriteFile(path, append(frame("new"), frame("newer")...), 0o600))
	removed, err := a.cut(before)
	require.NoError(t, err)
	assert.Zero(t, removed)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, append(frame("new"), frame("newer")...), data)
}

func TestArchiveCutOfAFileTheWriteCreated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.zst")
	a := &archiveFile{path: path, framed: true}
	before := a.mark()
	require.NoError(t, os.WriteFile(path, frame("torn")[:3], 0o600))
	removed, err := a.cut(before)
	require.NoError(t, err)
	assert.Equal(t, int64(3), removed)
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, info.Size())
}

func TestRepairTail(t *testing.T) {
	tests := []struct {
		name    string
		framed  bool
		content []byte
		want    []byte
	}{
		{"whole frames stay", true, append(frame("a"), frame("bb")...), append(frame("a"), frame("bb")...)},
		{"a torn last frame goes", true, append(frame("a"), frame("bbbb")[:6]...), frame("a")},
		{"a torn length goes", true, append(frame("a"), 0, 0), frame("a")},
		{"empty", true, nil, nil},
		{"whole lines stay", false, []byte("{\"a\":1}\n{\"b\":2}\n"), []byte("{\"a\":1}\n{\"b\":2}\n")},
		{"a line without its newline goes", false, []byte("{\"a\":1}\n{\"b\":"), []byte("{\"a\":1}\n")},
		{"nothing whole", false, []byte("{\"b\":"), []byte{}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "archive")
			require.NoError(t, os.WriteFile(path, test.content, 0o600))
			removed, err := (&archiveFile{path: path, framed: test.framed}).repairTail()
			require.NoError(t, err)
			assert.Equal(t, int64(len(test.content)-len(test.want)), removed)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(test.want), string(data))
		})
	}
	removed, err := (&archiveFile{path: filepath.Join(t.TempDir(), "missing")}).repairTail()
	require.NoError(t, err)
	assert.Zero(t, removed)
}
