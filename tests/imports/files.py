"""Files as users make them: CSV with any delimiter and encoding, XLSX written by openpyxl."""

import csv
import io

from openpyxl import Workbook


def csv_bytes(rows, *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode(encoding) + text.getvalue().encode(encoding)


def xlsx_bytes(sheets: dict[str, list]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()
