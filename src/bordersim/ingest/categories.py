"""How the official categories map onto the model's sectors and groups (`model.dimensions`)."""

from __future__ import annotations

from bordersim.model.dimensions import SECTOR_NAMES, Demographic, Nationality, Sector

SOUTHWEST_REGION = "Southwest Land Border"  # OHSS region name of the southwest land border
USBP_COMPONENT = "U.S. Border Patrol"  # CBP CSV component of Border Patrol encounters
OFO_COMPONENT = "Office of Field Operations"  # CBP CSV component of the ports of entry

# OHSS writes sectors as "San Diego, CA".
SECTOR_BY_OHSS_NAME: dict[str, Sector] = {
    f"{SECTOR_NAMES[sector]}, {state}": sector
    for sector, state in (
        (Sector.SDC, "CA"),
        (Sector.ELC, "CA"),
        (Sector.YUM, "AZ"),
        (Sector.TCA, "AZ"),
        (Sector.EPT, "TX"),
        (Sector.BBT, "TX"),
        (Sector.DRT, "TX"),
        (Sector.LRT, "TX"),
        (Sector.RGV, "TX"),
    )
}

DEMOGRAPHIC_BY_OHSS_FAMILY_STATUS: dict[str, Demographic] = {
    "Single Adults": Demographic.SINGLE_ADULT,
    "Family Unit Individuals": Demographic.FAMILY_UNIT,
    "Unaccompanied Children": Demographic.UNACCOMPANIED_CHILD,
}

# CBP: FMUA = family unit members; accompanied minors travel with their families.
DEMOGRAPHIC_BY_CBP_NAME: dict[str, Demographic] = {
    "Single Adults": Demographic.SINGLE_ADULT,
    "FMUA": Demographic.FAMILY_UNIT,
    "Accompanied Minors": Demographic.FAMILY_UNIT,
    "UAC": Demographic.UNACCOMPANIED_CHILD,
}

NORTHERN_CENTRAL_AMERICA = ("Guatemala", "Honduras", "El Salvador")


_NATIONALITY_BY_FOLDED_NAME: dict[str, Nationality] = {
    "MEXICO": Nationality.MEXICO,
    **{name.upper(): Nationality.NORTHERN_CENTRAL_AMERICA for name in NORTHERN_CENTRAL_AMERICA},
}


def nationality_of(citizenship: str) -> Nationality:
    """Nationality group of an OHSS citizenship or a CBP citizenship grouping.

    Compared with case and spacing folded: a release that writes "MEXICO" or "El  Salvador"
    still means the same country (anything else is "Other").
    """
    folded = " ".join(citizenship.split()).upper()
    return _NATIONALITY_BY_FOLDED_NAME.get(folded, Nationality.OTHER)
