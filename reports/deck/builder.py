"""python-pptx building blocks in the house style: a 16:9 presentation, titled slides, text
boxes, tables and native editable charts.

Fonts: each run, the chart text, the axes, the legend and the data labels get ``a:latin`` and
``a:ea`` in the schema's order (``a:ea`` right after ``a:latin``, before ``a:cs``/``a:sym``/
``a:hlinkClick``), so PowerPoint never offers to repair the file and Japanese glyphs use a
Japanese face.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, cast
from xml.sax.saxutils import escape

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from pptx import Presentation
from pptx.chart.chart import Chart
from pptx.chart.data import CategoryChartData, ChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.shapes import MSO_CONNECTOR
from pptx.enum.text import MSO_ANCHOR
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.shapes.autoshape import Shape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.slide import Slide, Slides
from pptx.text.text import Font, TextFrame
from pptx.util import Emu, Inches, Length, Pt

from bot.core.catalog import t
from reports.deck import tables

FONT = "Yu Gothic"
WIDTH, HEIGHT = Emu(12192000), Emu(6858000)  # 16:9, 13.333 × 7.5 in
ACCENT_HEX, GREY_HEX = "1F4E79", "595959"
ACCENT = RGBColor.from_string(ACCENT_HEX)  # type: ignore[no-untyped-call]  # unannotated upstream
CELL_MARGIN = 27432  # EMU: 0.03 in above and below the text of a table cell
A_P, A_PPR, A_R, A_RPR, A_LATIN, A_EA, A_T, A_SOLIDFILL, A_SRGBCLR = (
    qn(f"a:{x}") for x in ("p", "pPr", "r", "rPr", "latin", "ea", "t", "solidFill", "srgbClr")
)


def _set_ea(rpr: Any) -> None:
    """``a:latin`` then ``a:ea`` with the Japanese face, in the schema's order."""
    latin = rpr.get_or_add_latin()  # python-pptx places a:latin before any a:ea/a:cs/a:sym
    latin.set("typeface", FONT)
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = OxmlElement("a:ea")
        latin.addnext(ea)
    ea.set("typeface", FONT)


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")  # below the space, but for the tab


def _xml_text(text: str) -> str:
    """Text fit for an XML text node: no control characters, one line."""
    return _CONTROL.sub(" ", text)


def _one_run(
    tf: TextFrame, text: str, size: float, *, bold: bool = False, color: str = "", align: str = ""
) -> None:
    """A text frame holding one run, written as XML (titles and footers of every slide):
    ``a:rPr`` children in schema order — fill, then ``a:latin``, then ``a:ea``."""
    body = tf._txBody
    for old in body.findall(A_P):
        body.remove(old)
    p = etree.SubElement(body, A_P)
    if align:
        etree.SubElement(p, A_PPR, {"algn": align})
    r = etree.SubElement(p, A_R)
    rpr = etree.SubElement(
        r, A_RPR, {"lang": "ja-JP", "sz": str(int(size * 100)), "b": "1" if bold else "0"}
    )
    if color:
        fill = etree.SubElement(rpr, A_SOLIDFILL)
        etree.SubElement(fill, A_SRGBCLR, {"val": color})
    etree.SubElement(rpr, A_LATIN, {"typeface": FONT})
    etree.SubElement(rpr, A_EA, {"typeface": FONT})
    etree.SubElement(r, A_T).text = _xml_text(text)


def _font(font: Font, size: float | None = None, bold: bool | None = None) -> None:
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    _set_ea(font._rPr)  # python-pptx has no public a:ea API


def _fonts_in_chart(chart: Chart) -> None:
    """Chart text, legend, axes and data labels (each has its own text properties)."""
    _font(chart.font, 12)
    if chart.has_legend:
        _font(chart.legend.font, 11)
    for plot in chart.plots:
        if plot.has_data_labels:
            _font(plot.data_labels.font, 10)
    try:
        axes = [chart.category_axis, chart.value_axis]
    except ValueError:  # a pie has no axes
        axes = []
    for axis in axes:
        _font(axis.tick_labels.font, 11)
        if axis.has_title:
            for p in axis.axis_title.text_frame.paragraphs:
                for r in p.runs:
                    _font(r.font, 11)


KICKER = "Kicker"  # the name of the shape holding the section heading above a slide's title
MARKER_COLORS = ("262626", "7F7F7F", "BF9000")  # target, minimum, a third: never red
C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"


def _c(tag: str) -> str:
    return f"{{{C_NS}}}{tag}"


def _value_axis(
    chart: Chart,
    series: Sequence[tuple[str, Sequence[float]]],
    kind: XL_CHART_TYPE,
    title: str,
    number_format: str,
) -> None:
    """Integer steps for counts (never 0.5 of a session) and the axis title with its unit."""
    axis = chart.value_axis
    stacked = kind in (XL_CHART_TYPE.BAR_STACKED, XL_CHART_TYPE.COLUMN_STACKED)
    values = [[x or 0 for x in v] for _, v in series] or [[0]]
    top = max(
        (sum(col) for col in zip(*values, strict=True)) if stacked else (max(v) for v in values),
        default=0,
    )
    if number_format == "0":
        step = max(1, math.ceil(max(top, 1) / 8))
        nice = next(n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000) if n >= step)
        axis.major_unit = nice
        axis.minimum_scale = 0
        axis.maximum_scale = max(nice, math.ceil(top / nice) * nice)
        axis.tick_labels.number_format = "0"
        axis.tick_labels.number_format_is_linked = False
    if title:
        axis.has_title = True
        axis.axis_title.text_frame.text = title


def _as_markers(chart: Chart, indices: Sequence[int]) -> None:
    """Move the series at ``indices`` from the bar chart into a line chart on the same axes,
    drawn as marks only (no line): a target or a minimum reads as a level, not as a bar."""
    plot_area = chart._chartSpace.find(".//" + _c("plotArea"))
    bar = plot_area.find(_c("barChart"))
    sers = bar.findall(_c("ser"))
    line = etree.Element(_c("lineChart"))
    etree.SubElement(line, _c("grouping"), val="standard")
    etree.SubElement(line, _c("varyColors"), val="0")
    horizontal = bar.find(_c("barDir")).get("val") == "bar"
    for n, i in enumerate(indices):
        ser = sers[i]
        bar.remove(ser)
        for x in ser.findall(_c("invertIfNegative")) + ser.findall(_c("shape")):
            ser.remove(x)
        color = MARKER_COLORS[n % len(MARKER_COLORS)]
        sppr = ser.find(_c("spPr"))
        if sppr is not None:
            ser.remove(sppr)
        sppr = etree.Element(_c("spPr"))
        ln = etree.SubElement(sppr, qn("a:ln"))
        etree.SubElement(ln, qn("a:noFill"))
        marker = etree.Element(_c("marker"))
        etree.SubElement(marker, _c("symbol"), val="dash")
        etree.SubElement(marker, _c("size"), val="24" if not horizontal else "12")
        mpr = etree.SubElement(marker, _c("spPr"))
        fill = etree.SubElement(mpr, qn("a:solidFill"))
        etree.SubElement(fill, qn("a:srgbClr"), val=color)
        mln = etree.SubElement(mpr, qn("a:ln"))
        lfill = etree.SubElement(mln, qn("a:solidFill"))
        etree.SubElement(lfill, qn("a:srgbClr"), val=color)
        tx = ser.find(_c("tx"))
        (tx if tx is not None else ser.find(_c("order"))).addnext(sppr)
        sppr.addnext(marker)
        for dl in ser.findall(_c("dLbls")):
            ser.remove(dl)
        etree.SubElement(ser, _c("smooth"), val="0")
        line.append(ser)
    etree.SubElement(line, _c("marker"), val="1")
    for ax in bar.findall(_c("axId")):
        etree.SubElement(line, _c("axId"), val=ax.get("val"))
    bar.addnext(line)


def _rows(
    rows: Sequence[Sequence[str]], heights_pt: Sequence[float], size: float, right: Sequence[bool]
) -> list[Any]:
    """A table's rows (``a:tr``, the first one the bold header), written as one XML text and
    parsed once: an appendix holds thousands of cells, and python-pptx's per-cell API costs about
    a millisecond a cell, building each element with lxml's SubElement a tenth of that. Each
    line of a cell's text is its own paragraph (LibreOffice grows a row for paragraphs); an
    empty cell shows 「－」; numbers are right-aligned; the cell's ``a:tcPr`` (after
    ``a:txBody``) sets the top and bottom margins the measure counts on."""
    sz = str(int(size * 100))
    fonts = f'<a:latin typeface="{FONT}"/><a:ea typeface="{FONT}"/>'
    cell_end = f'</a:txBody><a:tcPr marT="{CELL_MARGIN}" marB="{CELL_MARGIN}"/></a:tc>'
    out = [f"<a:tbl {nsdecls('a')}>"]
    for r, (values, h) in enumerate(zip(rows, heights_pt, strict=True)):
        run = f'<a:r><a:rPr lang="ja-JP" sz="{sz}" b="{int(r == 0)}">{fonts}</a:rPr><a:t>'
        out.append(f'<a:tr h="{int(Pt(h))}">')
        for text, num in zip(values, right, strict=True):
            start = '<a:p><a:pPr algn="r"/>' + run if num and r > 0 else "<a:p>" + run
            out.append("<a:tc><a:txBody><a:bodyPr/><a:lstStyle/>")
            for line in text.split("\n") if text else ["－"]:
                out.append(f"{start}{escape(_xml_text(line) or '－')}</a:t></a:r></a:p>")
            out.append(cell_end)
        out.append("</a:tr>")
    out.append("</a:tbl>")
    return list(parse_xml("".join(out)))


def remove_empty_placeholders(slide: Slide) -> None:
    for ph in list(slide.placeholders):
        if not ph.has_text_frame or not ph.text_frame.text.strip():
            ph._element.getparent().remove(ph._element)


def _title_of(slide: Slide) -> Shape:
    head = slide.shapes.title
    assert head is not None, "the template's Title and Title Only layouts both have a title"
    return head


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    width: float
    height: float

    def emu(self) -> tuple[Length, Length, Length, Length]:
        return Inches(self.left), Inches(self.top), Inches(self.width), Inches(self.height)


BODY = Box(0.6, 1.35, 12.13, 5.55)
LEFT = Box(0.6, 1.35, 6.4, 5.55)
RIGHT = Box(7.2, 1.35, 5.53, 5.55)
TOP_NOTE = Box(0.6, 1.3, 12.13, 0.6)
UNDER_NOTE = Box(0.6, 1.95, 12.13, 4.95)


class DeckBuilder:
    """Holds the presentation; each method adds one kind of element in the house style."""

    def __init__(self) -> None:
        self.prs = Presentation()
        self.prs.slide_width = WIDTH
        self.prs.slide_height = HEIGHT
        # python-pptx leaves Presentation.slides unannotated; the collection is a Slides.
        self.slides: Slides = self.prs.slides
        # The section heading shown small above each slide's title (the title states the
        # finding); set by the section while its slides are drawn.
        self.kicker = ""
        self._placeholders: dict[int, list[Any]] = {}

    def _add_slide(self, layout: int) -> Slide:
        """python-pptx's ``Slides.add_slide`` — a slide of the layout, the layout's placeholders
        cloned onto it, the slide listed — with each layout's placeholders cloned once per deck
        and copied after: python-pptx looks up the layout's shapes and the new slide's shape ids
        afresh for each slide, a third of the time a deck's slides take to add."""
        slide_layout = self.prs.slide_layouts[layout]
        cloned = self._placeholders.get(layout)
        if cloned is None:
            slide = self.slides.add_slide(slide_layout)
            ph_elms = cast(Any, slide.shapes._spTree).iter_ph_elms()  # unannotated upstream
            self._placeholders[layout] = [deepcopy(sp) for sp in ph_elms]
            return slide
        r_id, slide = self.prs.part.add_slide(slide_layout)
        tree = slide.shapes._spTree
        for sp in cloned:  # ids and names as python-pptx gives them on a new slide: the same
            tree.insert_element_before(deepcopy(sp), "p:extLst")
        cast(Any, self.slides)._sldIdLst.add_sldId(r_id)
        return cast(Slide, slide)

    def title_slide(self, title: str, subtitle: str) -> Slide:
        slide = self._add_slide(0)
        head, sub = _title_of(slide), slide.placeholders[1]
        head.left, head.top, head.width, head.height = (
            Inches(0.8),
            Inches(2.0),
            Inches(11.73),
            Inches(1.6),
        )
        sub.left, sub.top, sub.width, sub.height = (
            Inches(0.8),
            Inches(3.8),
            Inches(11.73),
            Inches(2.2),
        )
        head.text_frame.text = title
        for p in head.text_frame.paragraphs:
            for r in p.runs:
                _font(r.font, 36, True)
                r.font.color.rgb = ACCENT
        self._lines(sub.text_frame, subtitle.split("\n"), 18)
        remove_empty_placeholders(slide)
        return slide

    def slide(self, title: str) -> Slide:
        slide = self._add_slide(5)  # Title Only
        head = _title_of(slide)
        top = 0.36 if self.kicker else 0.3
        head.left, head.top, head.width, head.height = (
            Inches(0.5),
            Inches(top),
            Inches(12.33),
            Inches(1.2 - top),
        )
        head.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        head.text_frame.word_wrap = True
        size = tables.fit_size([title], 12.33, 1.2 - top, 26)  # a long finding on two lines
        _one_run(head.text_frame, title, size, bold=True, color=ACCENT_HEX, align="l")
        if self.kicker:
            box = slide.shapes.add_textbox(Inches(0.5), Inches(0.0), Inches(12.33), Inches(0.4))
            box.name = KICKER
            # One line: 12 pt, smaller for a long heading (at most 80 characters).
            kicker = min(12.0, 12.1 * 72 / max(tables.text_em(self.kicker), 1))
            _one_run(box.text_frame, self.kicker, kicker, color=GREY_HEX, align="l")
        line = slide.shapes.add_connector(
            MSO_CONNECTOR.STRAIGHT, Inches(0.5), Inches(1.22), Inches(12.83), Inches(1.22)
        )
        line.line.color.rgb = ACCENT
        if not head.text_frame.text.strip():  # the layout's only placeholder is the title
            head._element.getparent().remove(head._element)
        return slide

    @staticmethod
    def _lines(tf: TextFrame, lines: Sequence[str], size: float, bullet: bool = False) -> None:
        tf.word_wrap = True
        for i, text in enumerate(lines):
            # add_paragraph is unannotated in python-pptx (it returns a _Paragraph).
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()  # type: ignore[no-untyped-call]
            run = p.add_run()
            run.text = (
                t("deck_bullet") if bullet and not text.startswith(("　", " ")) else ""
            ) + text
            _font(run.font, size)
            p.space_after = Pt(6)

    def text(
        self,
        slide: Slide,
        lines: Sequence[str],
        box: Box = BODY,
        size: float = 18,
        bullet: bool = True,
    ) -> None:
        shown = [ln for ln in lines if ln]
        marked = [t("deck_bullet") + x if bullet else x for x in shown]
        size = tables.fit_size(marked, box.width, box.height, size)  # never past the box
        shape = slide.shapes.add_textbox(*box.emu())
        self._lines(shape.text_frame, shown, size, bullet)

    def table(
        self,
        slide: Slide,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        box: Box = BODY,
        size: float = 12,
        lay: tables.TableLayout | None = None,
    ) -> float:
        """One table at the top of ``box``: columns sized to their content, each row as tall as
        its measured (wrapped) text, numbers right-aligned. A table taller than the box is drawn
        smaller until it fits (long tables go through ``paged_table``). The height used, in
        inches."""
        if lay is None:
            lay = tables.layout(headers, rows, box.width, size)
            while size > 8 and lay.height_in(0, len(rows)) > box.height:
                size -= 0.5
                lay = tables.layout(headers, rows, box.width, size)
        height = lay.height_in(0, len(rows))
        shape = slide.shapes.add_table(
            1, len(headers), *Box(box.left, box.top, box.width, height).emu()
        )
        tbl = shape.table._tbl
        for col, w in zip(tbl.tblGrid.gridCol_lst, lay.widths, strict=True):
            col.set("w", str(int(Inches(w))))
        tbl.remove(tbl.tr_lst[0])
        heights = [lay.header_pt, *lay.rows_pt]
        tbl.extend(_rows([headers, *rows], heights, size, lay.right))
        return height

    def paged_table(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        box: Box = BODY,
        size: float = 12,
        decorate: tables.Decorate | None = None,
    ) -> int:
        """The rows over as many slides titled ``title`` (1/n) as their measured heights need,
        the header on each, the same column widths throughout; ``decorate`` adds a slide's notes.
        The number of slides."""
        lay = tables.layout(headers, rows, box.width, size)
        pages = tables.paginate(lay, box.height)
        for n, (first, last) in enumerate(pages, start=1):
            slide = self.slide(tables.page_title(title, n, len(pages)))
            part = tables.TableLayout(lay.widths, lay.header_pt, lay.rows_pt[first:last], lay.right)
            self.table(slide, headers, rows[first:last], box, size, lay=part)
            if decorate is not None:
                decorate(slide, n, len(pages))
        return len(pages)

    def chart(
        self,
        slide: Slide,
        kind: XL_CHART_TYPE,
        categories: Sequence[str],
        series: Sequence[tuple[str, Sequence[float]]],
        box: Box = BODY,
        *,
        legend: bool = True,
        labels: bool = True,
        number_format: str = "0",
        label_format: str | None = None,
        value_title: str = "",
        category_title: str = "",
        markers: Sequence[str] = (),
        point_colors: Sequence[str] = (),
    ) -> Chart:
        """A native chart. Counts get an integer value axis titled with its unit; a series of
        zeros only is left out (never an empty legend entry); the series named in ``markers``
        are drawn as marks on a line chart over the bars (a target, a minimum), never as bars;
        ``point_colors`` colours a single series' points (an ordinal palette)."""
        shown = [(n, v) for n, v in series if any(v) or n in markers] or list(series[:1])
        if markers and not any(any(v) for n, v in shown if n not in markers):
            shown = [x for x in shown if x[0] not in markers] or list(series[:1])
        legend = legend and len(shown) > 1
        # python-pptx leaves the chart data classes unannotated, and annotates add_chart as taking
        # its deprecated alias ChartData (a subclass of CategoryChartData) and returning the
        # Chart, when it returns the graphic frame that holds the chart.
        data = CategoryChartData(number_format=number_format)  # type: ignore[no-untyped-call]
        data.categories = list(categories)
        for name, values in shown:
            data.add_series(name, list(values))  # type: ignore[no-untyped-call]
        frame = slide.shapes.add_chart(kind, *box.emu(), cast(ChartData, data))
        chart = cast(GraphicFrame, frame).chart
        chart.has_title = False
        chart.has_legend = legend
        if legend:
            chart.legend.position = XL_LEGEND_POSITION.BOTTOM
            chart.legend.include_in_layout = False
        if labels:
            plot = chart.plots[0]
            plot.has_data_labels = True
            plot.data_labels.number_format = (
                "0%" if kind == XL_CHART_TYPE.PIE else label_format or number_format
            )
            plot.data_labels.number_format_is_linked = False
            if kind == XL_CHART_TYPE.PIE:
                plot.data_labels.show_percentage = True
                plot.data_labels.show_value = False
        if kind in (XL_CHART_TYPE.BAR_CLUSTERED, XL_CHART_TYPE.BAR_STACKED):
            chart.category_axis.reverse_order = True  # first category at the top
        if kind != XL_CHART_TYPE.PIE:
            _value_axis(chart, shown, kind, value_title, number_format)
            if category_title:
                chart.category_axis.has_title = True
                chart.category_axis.axis_title.text_frame.text = category_title
        if point_colors:
            for i, color in enumerate(point_colors[: len(categories)]):
                fill = chart.plots[0].series[0].points[i].format.fill
                fill.solid()
                fill.fore_color.rgb = RGBColor.from_string(color)  # type: ignore[no-untyped-call]
        names = [n for n, _ in shown]
        marked = [names.index(n) for n in markers if n in names]
        if marked and len(marked) < len(names):
            _as_markers(chart, marked)
        _fonts_in_chart(chart)
        return chart

    def finish(self, footer: str) -> bytes:
        total = len(self.slides)
        for i, slide in enumerate(self.slides, start=1):
            if i == 1:
                continue
            box = slide.shapes.add_textbox(Inches(0.5), Inches(7.05), Inches(12.33), Inches(0.35))
            text = t("deck_footer", program=footer, page=i, total=total)
            _one_run(box.text_frame, text, 10, color=GREY_HEX, align="r")
        # (title_slide and slide already removed their empty placeholders: no second pass)
        buf = io.BytesIO()
        self.prs.save(buf)
        return buf.getvalue()
