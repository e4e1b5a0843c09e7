"""Form checks for the code sets whose lists the app does not hold: CPT, HCPCS Level II and
ICD-10-PCS. They say whether a code is *written* right, never whether it exists: CPT's codes
and descriptors are the AMA's (licensed, not shipped), and the HCPCS and PCS lists are not
bundled either."""

from __future__ import annotations

import re
from dataclasses import dataclass

# CPT: Category I is five digits; Category II four digits then F; Category III four then T.
# (A few Category I codes end in a letter too: the proprietary laboratory analyses, 0001U...,
# four digits then U.)
_CPT = {
    "Category I": re.compile(r"[0-9]{5}"),
    "Category II": re.compile(r"[0-9]{4}F"),
    "Category III": re.compile(r"[0-9]{4}T"),
    "PLA": re.compile(r"[0-9]{4}U"),
}
_HCPCS = re.compile(r"[A-Z][0-9]{4}")
# ICD-10-PCS: seven characters, digits and letters except O and I (not to be read as 0 and 1).
_PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")

KINDS = ("cpt", "hcpcs", "pcs")
NAMES = {"cpt": "CPT", "hcpcs": "HCPCS Level II", "pcs": "ICD-10-PCS"}
_ARTICLE = {"cpt": "a", "hcpcs": "a", "pcs": "an"}


@dataclass(frozen=True)
class FormCheck:
    """Whether a code is written as its code set writes codes (form only)."""

    code: str  # upper case, spaces taken out
    code_set: str  # "cpt", "hcpcs" or "pcs"
    well_formed: bool
    message: str


def check(code_set: str, text: str) -> FormCheck:
    """Check a code's form in one of ``KINDS``."""
    code = "".join(text.split()).upper()
    name = NAMES[code_set]
    if code_set == "cpt":
        category = next((c for c, shape in _CPT.items() if shape.fullmatch(code)), None)
        if category:
            return FormCheck(
                code, code_set, True, f"{code}: written like a CPT {category} code (form only)"
            )
        hint = "five digits, or four digits then F (Category II), T (Category III) or U (PLA)"
    elif code_set == "hcpcs":
        if _HCPCS.fullmatch(code):
            return FormCheck(code, code_set, True, f"{code}: written like a HCPCS Level II code "
                             "(form only)")  # fmt: skip
        hint = "a letter then four digits, e.g. J1100"
    else:
        if _PCS.fullmatch(code):
            return FormCheck(code, code_set, True, f"{code}: written like an ICD-10-PCS code "
                             "(form only)")  # fmt: skip
        hint = "seven characters, digits or letters except O and I, e.g. 0DTJ4ZZ"
    shown = code[:20] or "(empty)"
    return FormCheck(
        code, code_set, False, f"{shown}: not {_ARTICLE[code_set]} {name} code: {hint}"
    )
