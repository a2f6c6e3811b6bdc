using System.Text;

namespace MailPipeline.Cli.Output;

/// <summary>
/// A plain-text table: a header row, columns padded to their widest cell (capped per column), two spaces between
/// columns, right-aligned where asked; the last column is never padded or cut. Cells are made printable first.
/// </summary>
internal sealed class TextTable
{
    private readonly List<ColumnSpec> _columns = [];
    private readonly List<string[]> _rows = [];

    /// <summary>Adds a column.</summary>
    /// <param name="header">Its header (printed in upper case, as ps and kubectl do).</param>
    /// <param name="maxWidth">Longer cells are cut with an ellipsis; 0 for no limit.</param>
    /// <param name="alignRight">Right-align (numbers, sizes).</param>
    /// <returns>This table.</returns>
    public TextTable Column(string header, int maxWidth = 0, bool alignRight = false)
    {
        _columns.Add(new ColumnSpec(header.ToUpperInvariant(), maxWidth, alignRight));
        return this;
    }

    /// <summary>Adds a row, one cell per column.</summary>
    /// <param name="cells">The cells (null prints as empty).</param>
    public void Row(params string?[] cells)
    {
        if (cells.Length != _columns.Count)
        {
            throw new ArgumentException($"The table has {_columns.Count} columns, the row {cells.Length} cells.", nameof(cells));
        }

        _rows.Add(cells.Select((cell, i) =>
        {
            string text = TerminalText.Printable(cell);
            return _columns[i].MaxWidth > 0 ? TerminalText.Truncate(text, _columns[i].MaxWidth) : text;
        }).ToArray());
    }

    /// <summary>Number of rows (without the header).</summary>
    public int Count => _rows.Count;

    /// <summary>The table, header first, one line per row, each line ending with a newline.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var widths = _columns.Select((column, i) => Math.Max(column.Header.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        AppendLine(text, _columns.Select(c => c.Header).ToArray(), widths);
        foreach (var row in _rows)
        {
            AppendLine(text, row, widths);
        }

        return text.ToString();
    }

    private void AppendLine(StringBuilder text, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            bool last = i == cells.Length - 1;
            if (_columns[i].AlignRight)
            {
                text.Append(cells[i].PadLeft(widths[i]));
            }
            else
            {
                text.Append(last ? cells[i] : cells[i].PadRight(widths[i]));
            }

            if (!last)
            {
                text.Append("  ");
            }
        }

        text.Append('\n');
    }

    private sealed record ColumnSpec(string Header, int MaxWidth, bool AlignRight);
}
