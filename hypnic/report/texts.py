"""Every sentence of the report and trends pages, in English and Dutch.

Many wearers are Dutch speakers worried about their "schokken bij het inslapen" (issue 6): every
key has both languages. Templates hold no numbers of their own: numbers are ``{placeholders}``
filled with tagged values (:func:`hypnic.report.markup.number`), so each shown number can be
traced to ``summary.json``, ``events.csv`` or a named constant with its source.
"""

from __future__ import annotations

import string
from typing import Any

from hypnic.report.markup import Markup, esc

LANGS = ("en", "nl")

TEXTS: dict[str, dict[str, str]] = {
    # --- page and header ---------------------------------------------------------------------
    "night_title": {"en": "Your night", "nl": "Jouw nacht"},
    "night_intro": {
        "en": "What a movement sensor recorded in the night of {date}, in plain words.",
        "nl": "Wat een bewegingssensor vastlegde in de nacht van {date}, in gewone woorden.",
    },
    "night_intro_nodate": {
        "en": "What a movement sensor recorded during one night, in plain words.",
        "nl": "Wat een bewegingssensor tijdens een nacht vastlegde, in gewone woorden.",
    },
    "not_diagnosis": {
        "en": "This report informs; it does not diagnose. A movement sensor can be wrong, and "
        "only a doctor can tell whether something needs attention.",
        "nl": "Dit rapport informeert; het stelt geen diagnose. Een bewegingssensor kan zich "
        "vergissen, en alleen een arts kan zeggen of iets aandacht nodig heeft.",
    },
    "source_line": {
        "en": "Recording {source}, sensor worn at the {placement}.",
        "nl": "Opname {source}, sensor gedragen aan de {placement}.",
    },
    "placement_note": {
        "en": "Where the sensor was worn is not known, so every kind of movement was looked "
        "for, and leg movements were counted as if the sensor were at an ankle.",
        "nl": "Waar de sensor gedragen werd is niet bekend. Daarom is naar elke soort beweging "
        "gezocht en zijn beenbewegingen geteld alsof de sensor aan een enkel zat.",
    },
    "placement_wrist": {"en": "wrist", "nl": "pols"},
    "placement_ankle": {"en": "ankle", "nl": "enkel"},
    "placement_left_ankle": {"en": "left ankle", "nl": "linkerenkel"},
    "placement_right_ankle": {"en": "right ankle", "nl": "rechterenkel"},
    "placement_unknown": {"en": "unknown place", "nl": "onbekende plek"},
    # --- movement kinds (labels of events.csv) ------------------------------------------------
    "label_hypnic_jerk": {"en": "sleep start (hypnic jerk)", "nl": "inslaapschok"},
    "label_plm": {"en": "periodic leg movement", "nl": "periodieke beenbeweging"},
    "label_lm": {"en": "single leg movement", "nl": "losse beenbeweging"},
    "label_large_movement": {"en": "turning over", "nl": "omdraaien"},
    "label_other": {"en": "other movement", "nl": "andere beweging"},
    # --- section headings --------------------------------------------------------------------
    "h_numbers": {"en": "The night in numbers", "nl": "De nacht in getallen"},
    "h_plots": {"en": "The night at a glance", "nl": "De nacht in één oogopslag"},
    "h_zoom": {"en": "Falling asleep, close up", "nl": "Het inslapen van dichtbij"},
    "h_jerks": {"en": "Each sleep start", "nl": "Elke inslaapschok"},
    "h_meaning": {"en": "What the numbers mean", "nl": "Wat de getallen betekenen"},
    "h_gp": {"en": "Worth discussing with your GP?", "nl": "Iets om met je huisarts te bespreken?"},
    "h_check": {
        "en": "Questions only you can answer",
        "nl": "Vragen die alleen jij kunt beantwoorden",
    },
    "h_nights": {"en": "Every night in this recording", "nl": "Alle nachten in deze opname"},
    "h_method": {"en": "Method and provenance", "nl": "Methode en herkomst"},
    # --- the cards with numbers --------------------------------------------------------------
    "card_jerks_what": {
        "en": "Sleep starts while falling asleep",
        "nl": "Inslaapschokken bij het inslapen",
    },
    "card_jerks_more": {
        "en": "Counted from {before} min before to {after} min after falling asleep; {total} "
        "in the whole night.",
        "nl": "Geteld van {before} min vóór tot {after} min na het inslapen; {total} in de hele "
        "nacht.",
    },
    "card_jerks_none": {
        "en": "Not counted around sleep onset, because no sleep onset was found; {total} in the "
        "whole night.",
        "nl": "Niet geteld rond het inslapen, want er is geen inslaapmoment gevonden; {total} in "
        "de hele nacht.",
    },
    "card_legs_what": {"en": "Leg movements", "nl": "Beenbewegingen"},
    "card_legs_more": {
        "en": "Of these, {plm} were part of a periodic series (regularly repeated movements).",
        "nl": "Daarvan hoorden er {plm} bij een periodieke reeks (regelmatig herhaalde "
        "bewegingen).",
    },
    "card_legs_wrist": {
        "en": "Not measured: leg movements need a sensor at the ankle.",
        "nl": "Niet gemeten: voor beenbewegingen is een sensor aan de enkel nodig.",
    },
    "card_plmsi_what": {
        "en": "Periodic leg movements per hour of sleep (PLMS index)",
        "nl": "Periodieke beenbewegingen per uur slaap (PLMS-index)",
    },
    "card_plmsi_more": {
        "en": "Periodicity index {pi}: the share of leg movements that belong to a series.",
        "nl": "Periodiciteitsindex {pi}: het deel van de beenbewegingen dat bij een reeks hoort.",
    },
    "card_plmsi_none": {"en": "Not available: {reason}", "nl": "Niet beschikbaar: {reason}"},
    "card_plmsi_caveat": {"en": "Note: {reason}", "nl": "Let op: {reason}"},
    "card_turns_what": {"en": "Turning over", "nl": "Omdraaien"},
    "card_turns_more": {
        "en": "{in_sleep} during the sleep period ({per_h} per hour); {other} other movements "
        "in the whole night.",
        "nl": "{in_sleep} tijdens de slaapperiode ({per_h} per uur); {other} andere bewegingen "
        "in de hele nacht.",
    },
    "card_onset_what": {
        "en": "Quiet started (estimated sleep onset)",
        "nl": "Rust begon (geschat inslaapmoment)",
    },
    "card_onset_more": {
        "en": "Likely between {early} and {late}; {how}.",
        "nl": "Waarschijnlijk tussen {early} en {late}; {how}.",
    },
    "onset_detected": {"en": "estimated from your movements", "nl": "geschat uit je bewegingen"},
    "onset_given": {"en": "the time you gave", "nl": "het tijdstip dat je opgaf"},
    "card_onset_none": {
        "en": "No sleep onset found: {reason}",
        "nl": "Geen inslaapmoment gevonden: {reason}",
    },
    "card_period_what": {"en": "Sleep period", "nl": "Slaapperiode"},
    "card_period_more": {
        "en": "From falling asleep until {end}, the last quiet before the end or getting up.",
        "nl": "Van het inslapen tot {end}, de laatste rust voor het einde of het opstaan.",
    },
    "card_latency_what": {"en": "Time to fall asleep", "nl": "Tijd om in slaap te vallen"},
    "card_latency_more": {
        "en": "From lights out at {lights} until the quiet started.",
        "nl": "Van licht uit om {lights} tot de rust begon.",
    },
    "card_latency_after": {
        "en": "You gave lights out at {lights}, later than the estimated sleep onset, so the "
        "time to fall asleep cannot be told for this night.",
        "nl": "Je gaf {lights} op als tijd van licht uit, later dan het geschatte "
        "inslaapmoment. De tijd om in slaap te vallen is voor deze nacht dus niet te zeggen.",
    },
    "card_latency_ask": {
        "en": "Shown only when the lights-out time is known: hypnic report --lights-off HH:MM, "
        "or the lights_off column of a diary (hypnic trends).",
        "nl": "Alleen te zien als bekend is wanneer het licht uitging: hypnic report "
        "--lights-off UU:MM, of de kolom lights_off van een dagboek (hypnic trends).",
    },
    "card_latency_noclock": {
        "en": "The recording has no start time, so a lights-out time cannot be placed in it.",
        "nl": "De opname heeft geen begintijd, dus een tijdstip van licht uit valt er niet in "
        "te plaatsen.",
    },
    "card_quality_what": {"en": "Recording", "nl": "Opname"},
    "card_quality_more": {
        "en": "{n_gaps} gaps in the data ({gap_time} missing); not worn for {nonwear}.",
        "nl": "{n_gaps} gaten in de gegevens ({gap_time} ontbreekt); {nonwear} niet gedragen.",
    },
    "card_quality_idle": {
        "en": "The sensor paused measuring {idle_n} times while it lay still ({idle_time} in "
        "all); that is not missing data.",
        "nl": "De sensor pauzeerde het meten {idle_n} keer terwijl hij stil lag ({idle_time} in "
        "totaal); dat zijn geen ontbrekende gegevens.",
    },
    "card_quality_notemp": {
        "en": "This sensor recorded no temperature, so whether it was worn was judged from its "
        "movement alone.",
        "nl": "Deze sensor mat geen temperatuur. Of hij gedragen werd, is daarom alleen uit zijn "
        "bewegingen afgeleid.",
    },
    # --- when the sensor was not worn, and why (summary.json nonwear_evidence) ---------------
    "h_nonwear": {
        "en": "When the sensor was not worn",
        "nl": "Wanneer de sensor niet gedragen werd",
    },
    "nw_span": {
        "en": "{start} to {end} ({length}): the sensor {why}.",
        "nl": "{start} tot {end} ({length}): de sensor {why}.",
    },
    "nw_span_plain": {
        "en": "{start} to {end} ({length}).",
        "nl": "{start} tot {end} ({length}).",
    },
    "nw_and": {"en": "{first} and {last}", "nl": "{first} en {last}"},
    "nw_cooled": {
        "en": "cooled down as it does when not worn",
        "nl": "koelde af zoals wanneer hij niet gedragen wordt",
    },
    "nw_cold": {"en": "was colder than skin", "nl": "was kouder dan de huid"},
    "nw_still": {"en": "lay still", "nl": "lag stil"},
    "nw_still_hour": {"en": "lay still for an hour or more", "nl": "lag een uur of langer stil"},
    "nw_no_breathing": {
        "en": "did not move with your breathing",
        "nl": "bewoog niet mee met je ademhaling",
    },
    "nw_warmed": {
        "en": "warmed up again when it was put back on",
        "nl": "werd weer warm toen hij weer werd omgedaan",
    },
    "nw_edge_start": {
        "en": "at the start of the recording, before it was put on",
        "nl": "aan het begin van de opname, voordat hij werd omgedaan",
    },
    "nw_edge_end": {
        "en": "at the end of the recording, after it was taken off",
        "nl": "aan het eind van de opname, nadat hij was afgedaan",
    },
    "nw_awake": {"en": "while you were awake", "nl": "terwijl je wakker was"},
    "after_start": {"en": "{time} after the start", "nl": "{time} na het begin"},
    # --- plots -------------------------------------------------------------------------------
    "plot_timeline_alt": {
        "en": "Timeline of the night: movement, posture and every movement found",
        "nl": "Tijdlijn van de nacht: beweging, houding en elke gevonden beweging",
    },
    "plot_timeline_alt_temp": {
        "en": "Timeline of the night: movement, posture, the sensor's temperature and every "
        "movement found",
        "nl": "Tijdlijn van de nacht: beweging, houding, de temperatuur van de sensor en elke "
        "gevonden beweging",
    },
    "plot_timeline_caption": {
        "en": "Top: how much you moved (logarithmic scale). Middle: posture, the tilt of the "
        "sensor; turning over shows as a jump. Bottom: each movement found, by kind. Green line: "
        "estimated sleep onset; green band: its likely range; dashed green line: the final "
        "awakening. Grey hatching: gaps in the data. Purple: sensor not worn.",
        "nl": "Boven: hoeveel je bewoog (logaritmische schaal). Midden: houding, de kanteling "
        "van de sensor; omdraaien is een sprong. Onder: elke gevonden beweging, per soort. Groene "
        "lijn: geschat inslaapmoment; groene band: het waarschijnlijke bereik; gestreepte groene "
        "lijn: het laatste ontwaken. Grijze arcering: gaten in de gegevens. Paars: sensor niet "
        "gedragen.",
    },
    "plot_timeline_caption_temp": {
        "en": "Top: how much you moved (logarithmic scale). Second: posture, the tilt of the "
        "sensor; turning over shows as a jump. Third: the sensor's temperature; worn, it stays "
        "close to skin temperature, taken off, it falls towards room temperature (dotted line: "
        "below it the sensor is colder than skin). Bottom: each movement found, by kind. Green "
        "line: estimated sleep onset; green band: its likely range; dashed green line: the final "
        "awakening. Grey hatching: gaps in the data. Purple: sensor not worn.",
        "nl": "Boven: hoeveel je bewoog (logaritmische schaal). Tweede: houding, de kanteling "
        "van de sensor; omdraaien is een sprong. Derde: de temperatuur van de sensor; gedragen "
        "blijft die dicht bij de huidtemperatuur, afgedaan zakt die naar de kamertemperatuur "
        "(stippellijn: daaronder is de sensor kouder dan de huid). Onder: elke gevonden "
        "beweging, per soort. Groene lijn: geschat inslaapmoment; groene band: het "
        "waarschijnlijke bereik; gestreepte groene lijn: het laatste ontwaken. Grijze arcering: "
        "gaten in de gegevens. Paars: sensor niet gedragen.",
    },
    "plot_events_caption": {
        "en": "Each movement found, by kind, with its strength. Green line: estimated sleep "
        "onset; green band: its likely range; dashed green line: the final awakening. Grey "
        "hatching: gaps. Purple: not worn.",
        "nl": "Elke gevonden beweging, per soort, met haar sterkte. Groene lijn: geschat "
        "inslaapmoment; groene band: het waarschijnlijke bereik; gestreepte groene lijn: het "
        "laatste ontwaken. Grijze arcering: gaten. Paars: niet gedragen.",
    },
    "plot_idle_caption": {
        "en": "Blue strip along the bottom: the sensor lay still and paused measuring to save "
        "its battery (device idle). That time is not missing: the sensor did not move.",
        "nl": "Blauwe strook onderaan: de sensor lag stil en pauzeerde het meten om zijn batterij "
        "te sparen (apparaat in rust). Die tijd ontbreekt niet: de sensor bewoog niet.",
    },
    "no_traces": {
        "en": "This folder has no traces.npz, so the plots of movement and posture and the "
        "close-ups of each sleep start are left out.",
        "nl": "Deze map heeft geen traces.npz. Daarom ontbreken de grafieken van beweging en "
        "houding en de close-ups van elke inslaapschok.",
    },
    "plot_zoom_alt": {
        "en": "Movement in the minutes around sleep onset",
        "nl": "Beweging in de minuten rond het inslapen",
    },
    "plot_zoom_caption": {
        "en": "The minutes around the estimated sleep onset (zero). Sleep starts are counted "
        "in the yellow band; the green bar along the top is the likely range of the onset.",
        "nl": "De minuten rond het geschatte inslaapmoment (nul). Inslaapschokken worden geteld "
        "in de gele band; de groene balk bovenaan is het waarschijnlijke bereik van het "
        "inslaapmoment.",
    },
    "zoom_none": {
        "en": "No sleep onset was found, so there is no close-up of falling asleep.",
        "nl": "Er is geen inslaapmoment gevonden, dus er is geen close-up van het inslapen.",
    },
    "plot_jerk_alt": {
        "en": "Raw three-axis trace around a sleep start",
        "nl": "Ruw signaal van de drie assen rond een inslaapschok",
    },
    "jerks_intro": {
        "en": "The raw signal of the three axes of the sensor, a few seconds around each sleep "
        "start, each axis drawn as its change from how it lay just before. A sleep start is one "
        "short jolt, not a repeated pattern.",
        "nl": "Het ruwe signaal van de drie assen van de sensor, enkele seconden rond elke "
        "inslaapschok, elke as getekend als verschil met hoe die net ervoor lag. Een "
        "inslaapschok is één korte schok, geen herhaald patroon.",
    },
    "jerk_caption": {
        "en": "At {when}; {minutes} min from sleep onset; peak {peak} g.",
        "nl": "Om {when}; {minutes} min vanaf het inslapen; piek {peak} g.",
    },
    "jerk_caption_noonset": {"en": "At {when}; peak {peak} g.", "nl": "Om {when}; piek {peak} g."},
    "jerk_no_trace": {
        "en": "No raw trace was kept for this one.",
        "nl": "Hiervan is geen ruw signaal bewaard.",
    },
    "jerks_none": {
        "en": "No sleep starts were found in this night.",
        "nl": "In deze nacht zijn geen inslaapschokken gevonden.",
    },
    "jerks_more": {
        "en": "The first {shown} of {total} are shown.",
        "nl": "De eerste {shown} van de {total} staan hier.",
    },
    "ax_clock": {"en": "clock time", "nl": "kloktijd"},
    "ax_hours": {"en": "hours from the start", "nl": "uren vanaf het begin"},
    "ax_intensity": {"en": "movement (g)", "nl": "beweging (g)"},
    "ax_posture": {"en": "tilt (°)", "nl": "kanteling (°)"},
    "ax_strength": {"en": "strength (g)", "nl": "sterkte (g)"},
    "ax_minutes_onset": {"en": "minutes from sleep onset", "nl": "minuten vanaf het inslapen"},
    "ax_seconds": {"en": "seconds from the jerk", "nl": "seconden vanaf de schok"},
    "ax_accel_change": {"en": "change from rest (g)", "nl": "verschil met rust (g)"},
    "ax_temperature": {"en": "temperature (°C)", "nl": "temperatuur (°C)"},
    "legend_onset": {"en": "sleep onset", "nl": "inslapen"},
    "legend_end": {"en": "final awakening", "nl": "laatste ontwaken"},
    "legend_idle": {"en": "device idle (lay still)", "nl": "apparaat in rust (lag stil)"},
    "legend_off_skin": {"en": "below: colder than skin", "nl": "eronder: kouder dan de huid"},
    "legend_window": {"en": "likely range", "nl": "waarschijnlijk bereik"},
    "legend_gap": {"en": "gap in the data", "nl": "gat in de gegevens"},
    "legend_nonwear": {"en": "not worn", "nl": "niet gedragen"},
    "legend_count_window": {"en": "sleep starts counted", "nl": "inslaapschokken geteld"},
    "legend_axis_x": {"en": "x axis", "nl": "x-as"},
    "legend_axis_y": {"en": "y axis", "nl": "y-as"},
    "legend_axis_z": {"en": "z axis", "nl": "z-as"},
    # --- what the numbers mean ---------------------------------------------------------------
    "mean_jerks": {
        "en": "Sleep starts (hypnic jerks) are sudden, short jerks of the body or of an arm or "
        "leg while falling asleep, sometimes with a feeling of falling or a flash of light. "
        "Most people have them now and then; they are usually harmless and not a disease.",
        "nl": "Inslaapschokken (hypnic jerks) zijn plotselinge, korte schokken van het lichaam "
        "of van een arm of been tijdens het inslapen, soms met een gevoel van vallen of een "
        "lichtflits. De meeste mensen hebben ze weleens; ze zijn meestal onschuldig en geen "
        "ziekte.",
    },
    "mean_jerks_more": {
        "en": "They tend to come more often with stress, caffeine and nicotine, irregular sleep "
        "times, being over-tired, hard exercise late in the day and some stimulating "
        "medication.",
        "nl": "Ze komen vaker voor bij stress, cafeïne en nicotine, onregelmatige slaaptijden, "
        "oververmoeidheid, zware inspanning laat op de dag en sommige stimulerende medicijnen.",
    },
    "mean_onset": {
        "en": "Sleep onset is estimated from the moment your movements die down. It is an "
        "estimate: the real moment can be minutes earlier or later, which is why the plots "
        "show a likely range.",
        "nl": "Het inslaapmoment is geschat uit het moment waarop je bewegingen afnemen. Het is "
        "een schatting: het echte moment kan minuten eerder of later zijn. Daarom tonen de "
        "grafieken een waarschijnlijk bereik.",
    },
    "mean_legs": {
        "en": "Periodic leg movements are small, repeated movements of a leg during sleep, "
        "often of the foot or toes, that come back at regular intervals of some tens of "
        "seconds. The PLMS index counts them per hour of the sleep period.",
        "nl": "Periodieke beenbewegingen zijn kleine, herhaalde bewegingen van een been tijdens "
        "de slaap, vaak van de voet of tenen, die met regelmatige tussenpozen van enkele "
        "tientallen seconden terugkomen. De PLMS-index telt ze per uur van de slaapperiode.",
    },
    "mean_legs_method": {
        "en": "Here they are measured with an accelerometer, not in a sleep laboratory "
        "(polysomnography). It cannot see brain waves or breathing, so leg movements that go "
        "with breathing pauses are not taken out, and it can miss or add movements.",
        "nl": "Hier zijn ze gemeten met een versnellingsmeter, niet in een slaaplaboratorium "
        "(polysomnografie). Die ziet geen hersengolven of ademhaling: beenbewegingen die bij "
        "ademstops horen zijn niet weggelaten, en er kunnen bewegingen gemist of te veel "
        "geteld zijn.",
    },
    "mean_legs_nights": {
        "en": "The index varies a lot from night to night. In people with restless legs, the "
        "same person's highest and lowest night differed by {diff} per hour on average. One "
        "night says little; several nights say more (hypnic trends).",
        "nl": "De index wisselt sterk van nacht tot nacht. Bij mensen met rusteloze benen "
        "verschilden de hoogste en laagste nacht van dezelfde persoon gemiddeld {diff} per uur. "
        "Eén nacht zegt weinig; meerdere nachten zeggen meer (hypnic trends).",
    },
    "mean_turns": {
        "en": "Turning over is normal: in a study of healthy sleepers the middle value was "
        "{median} turn-overs and other large movements per hour of sleep.",
        "nl": "Omdraaien is normaal: in een onderzoek bij gezonde slapers lag de middelste "
        "waarde op {median} keer omdraaien of andere grote bewegingen per uur slaap.",
    },
    # --- signs worth discussing with a GP ----------------------------------------------------
    "gp_intro": {
        "en": "These points are shown because the data of this night point at them. They are "
        "not a diagnosis. If you decide to see your GP, take this report along.",
        "nl": "Deze punten staan hier omdat de gegevens van deze nacht erop wijzen. Het is geen "
        "diagnose. Als je naar je huisarts gaat, neem dit rapport dan mee.",
    },
    "sign_plms": {
        "en": "Leg movements went on during sleep: the PLMS index was {value} per hour, above "
        "the {limit} per hour that sleep medicine uses for adults ({ref}). Together with "
        "complaints such as unrefreshing sleep or sleepiness in the day, this is worth "
        "discussing.",
        "nl": "Er waren beenbewegingen tijdens de slaap: de PLMS-index was {value} per uur, "
        "boven de {limit} per uur die de slaapgeneeskunde voor volwassenen gebruikt ({ref}). "
        "Samen met klachten zoals niet uitgerust wakker worden of slaperigheid overdag is dit "
        "het bespreken waard.",
    },
    "sign_moves": {
        "en": "Many other movements during sleep: {value} turn-overs and other movements per "
        "hour of the sleep period. This tool flags more than {limit} per hour: its own rule of "
        "thumb, about twice what healthy sleepers show, not a published threshold.",
        "nl": "Veel andere bewegingen tijdens de slaap: {value} keer omdraaien en andere "
        "bewegingen per uur van de slaapperiode. Dit programma meldt meer dan {limit} per uur: "
        "een eigen vuistregel, ongeveer het dubbele van gezonde slapers, geen gepubliceerde "
        "grens.",
    },
    "sign_jerks": {
        "en": "Very many sleep starts: {value} around falling asleep. No published threshold "
        "exists; this tool flags {limit} or more, its own rule of thumb. If the jerks keep you "
        "from falling asleep or frighten you, mention it.",
        "nl": "Heel veel inslaapschokken: {value} rond het inslapen. Er bestaat geen "
        "gepubliceerde grens; dit programma meldt er {limit} of meer, een eigen vuistregel. "
        "Als de schokken je uit de slaap houden of je laten schrikken, vertel het dan.",
    },
    "gp_none": {
        "en": "Nothing in this night's data points at something to discuss with your GP. If "
        "you are worried, or a question below fits you, do go.",
        "nl": "Niets in de gegevens van deze nacht wijst op iets om met je huisarts te "
        "bespreken. Maak je je zorgen, of past een vraag hieronder bij jou, ga dan toch.",
    },
    "check_intro": {
        "en": "A sensor cannot know these; a doctor will probably ask them. Tick the ones that "
        "fit you.",
        "nl": "Een sensor kan dit niet weten; een arts vraagt er waarschijnlijk naar. Vink aan "
        "wat bij jou past.",
    },
    "q_rls": {
        "en": "In the evening or at night, do you feel an urge to move your legs, often with an "
        "unpleasant feeling, that gets better when you move them?",
        "nl": "Voel je 's avonds of 's nachts een drang om je benen te bewegen, vaak met een "
        "onaangenaam gevoel, dat beter wordt als je ze beweegt?",
    },
    "q_sleepy": {
        "en": "Are you sleepy or tired during the day, or do you doze off when you do not want to?",
        "nl": "Ben je overdag slaperig of moe, of dommel je in terwijl je dat niet wilt?",
    },
    "q_meds": {
        "en": "Did you recently start, stop or change a medicine?",
        "nl": "Ben je onlangs met een medicijn begonnen, gestopt of veranderd?",
    },
    "q_later": {
        "en": "Do the jerks also come later in the night or while you are awake, not only "
        "while falling asleep?",
        "nl": "Komen de schokken ook later in de nacht of als je wakker bent, niet alleen bij "
        "het inslapen?",
    },
    "q_breathing": {
        "en": "Does anyone notice loud snoring or pauses in your breathing while you sleep?",
        "nl": "Merkt iemand luid snurken of ademstops op terwijl je slaapt?",
    },
    "q_harm": {
        "en": "Do the jerks hurt you or your bed partner, or wake you up again and again?",
        "nl": "Doen de schokken jou of je bedpartner pijn, of word je er steeds wakker van?",
    },
    # --- every night of a long recording -----------------------------------------------------
    "nights_intro": {
        "en": "This recording spans several nights, split from noon to noon. The numbers above "
        "are for the first complete night.",
        "nl": "Deze opname beslaat meerdere nachten, gesplitst van middag tot middag. De "
        "getallen hierboven gaan over de eerste volledige nacht.",
    },
    "col_evening": {"en": "evening", "nl": "avond"},
    "col_onset": {"en": "sleep onset", "nl": "inslapen"},
    "col_jerks": {"en": "sleep starts", "nl": "inslaapschokken"},
    "col_plmsi": {"en": "PLMS index", "nl": "PLMS-index"},
    "col_turns": {"en": "turning over", "nl": "omdraaien"},
    "col_nonwear": {"en": "not worn", "nl": "niet gedragen"},
    "col_latency": {"en": "time to fall asleep", "nl": "inslaaptijd"},
    "col_tags": {"en": "tags", "nl": "labels"},
    "col_notes": {"en": "notes", "nl": "notities"},
    "col_folder": {"en": "folder", "nl": "map"},
    # --- method and provenance ---------------------------------------------------------------
    "method_intro": {
        "en": "Found by hypnic, open-source software, with published rules and one small model "
        "fitted on simulated nights. Every movement is a burst of acceleration above the "
        "sensor's noise. Its shape decides its kind; at an ankle, the international rules for "
        "periodic leg movements decide which leg movements form a series. Sleep onset is where "
        "the small adjustments and turning of lying awake give way to the stillness and "
        "twitches of sleep; a sleep start nearby helps place it.",
        "nl": "Gevonden door hypnic, opensourcesoftware, met gepubliceerde regels en één klein "
        "model dat op gesimuleerde nachten is afgesteld. Elke beweging is een uitschieter in de "
        "versnelling boven de ruis van de sensor. De vorm bepaalt de soort; aan een enkel bepalen "
        "de internationale regels voor periodieke beenbewegingen welke beenbewegingen een reeks "
        "vormen. Het inslaapmoment is waar het bijschikken en omdraaien van wakker liggen "
        "overgaat in de stilte en de trekkingen van de slaap; een schok vlakbij helpt het "
        "plaatsen.",
    },
    "m_software": {"en": "software and version", "nl": "software en versie"},
    "m_source": {"en": "source", "nl": "bron"},
    "m_start": {"en": "start of the recording (UTC)", "nl": "begin van de opname (UTC)"},
    "m_timezone": {"en": "clock times shown in", "nl": "kloktijden getoond in"},
    "m_fs": {"en": "sample rate (Hz)", "nl": "bemonsteringsfrequentie (Hz)"},
    "m_samples": {"en": "number of samples", "nl": "aantal metingen"},
    "m_duration": {"en": "length", "nl": "duur"},
    "m_placement": {"en": "placement", "nl": "plaats van de sensor"},
    "m_placement_source": {"en": "placement taken from", "nl": "plaats bepaald door"},
    "m_rules": {"en": "leg-movement rules", "nl": "regels voor beenbewegingen"},
    "m_labelling": {"en": "labelling", "nl": "indeling in soorten"},
    "m_onset_source": {"en": "sleep onset", "nl": "inslaapmoment"},
    "m_params": {"en": "detector parameters", "nl": "parameters van de detector"},
    "m_device": {"en": "sensor and file", "nl": "sensor en bestand"},
    "m_none": {"en": "not known", "nl": "niet bekend"},
    "footer": {
        "en": "Made with hypnic {version}. This report informs; it does not diagnose.",
        "nl": "Gemaakt met hypnic {version}. Dit rapport informeert; het stelt geen diagnose.",
    },
    # --- trends ------------------------------------------------------------------------------
    "trends_title": {"en": "Your nights over time", "nl": "Jouw nachten door de tijd"},
    "trends_intro": {
        "en": "{n} nights, from {first} to {last}. A night is linked to the diary by the date "
        "of its evening.",
        "nl": "{n} nachten, van {first} tot {last}. Een nacht hoort bij de dagboekregel met de "
        "datum van die avond.",
    },
    "trends_intro_nodates": {
        "en": "{n} nights, without dates (the recordings have no start time).",
        "nl": "{n} nachten, zonder datum (de opnames hebben geen begintijd).",
    },
    "trends_undated": {
        "en": "{n} nights have no start time, so they cannot be linked to the diary.",
        "nl": "{n} nachten hebben geen begintijd en zijn dus niet aan het dagboek te koppelen.",
    },
    "trends_unmatched": {
        "en": "Diary entries without a recorded night: {dates}.",
        "nl": "Dagboekregels zonder opgenomen nacht: {dates}.",
    },
    "trends_no_diary": {
        "en": "No diary was given. With hypnic trends --diary diary.csv (columns date, tags, "
        "lights_off, notes) nights can be compared by circumstance.",
        "nl": "Er is geen dagboek opgegeven. Met hypnic trends --diary dagboek.csv (kolommen "
        "date, tags, lights_off, notes) zijn nachten per omstandigheid te vergelijken.",
    },
    "h_over_time": {"en": "Night by night", "nl": "Nacht na nacht"},
    "h_by_tag": {
        "en": "Do circumstances go with more sleep starts or leg movements?",
        "nl": "Gaan omstandigheden samen met meer inslaapschokken of beenbewegingen?",
    },
    "by_tag_intro": {
        "en": "For each tag in the diary, the nights with it are compared with the diary "
        "nights without it. The interval is a {level}% bootstrap interval of the difference "
        "between the averages; p comes from a Mann-Whitney test. An interval that includes "
        "zero means no clear difference. Few nights give wide intervals. A difference is an "
        "association in your nights, not proof that one causes the other.",
        "nl": "Voor elk label in het dagboek worden de nachten met dat label vergeleken met de "
        "dagboeknachten zonder. Het interval is een {level}%-bootstrapinterval van het verschil "
        "tussen de gemiddelden; p komt uit een Mann-Whitneytoets. Een interval dat nul bevat "
        "betekent geen duidelijk verschil. Weinig nachten geven brede intervallen. Een verschil "
        "is een samenhang in jouw nachten, geen bewijs dat het een het ander veroorzaakt.",
    },
    "by_tag_none": {
        "en": "The diary has no tags for the recorded nights.",
        "nl": "Het dagboek heeft geen labels bij de opgenomen nachten.",
    },
    "metric_jerks": {
        "en": "sleep starts around falling asleep",
        "nl": "inslaapschokken rond het inslapen",
    },
    "metric_plmsi": {"en": "PLMS index (per hour)", "nl": "PLMS-index (per uur)"},
    "col_tag": {"en": "tag", "nl": "label"},
    "col_measure": {"en": "measure", "nl": "maat"},
    "col_with": {"en": "average with", "nl": "gemiddeld met"},
    "col_without": {"en": "average without", "nl": "gemiddeld zonder"},
    "col_difference": {"en": "difference (interval)", "nl": "verschil (interval)"},
    "col_p": {"en": "p", "nl": "p-waarde"},
    "col_reading": {"en": "reading", "nl": "betekenis"},
    "nights_count": {"en": "{n} nights", "nl": "{n} nachten"},
    "not_enough": {
        "en": "not enough nights: {n_with} with, {n_without} without; at least {need} of each "
        "are needed",
        "nl": "te weinig nachten: {n_with} met, {n_without} zonder; van elk zijn er minstens "
        "{need} nodig",
    },
    "reading_more": {
        "en": "higher on nights with this tag",
        "nl": "hoger in nachten met dit label",
    },
    "reading_less": {"en": "lower on nights with this tag", "nl": "lager in nachten met dit label"},
    "reading_unclear": {"en": "no clear difference", "nl": "geen duidelijk verschil"},
    "plot_trends_alt": {
        "en": "Sleep starts and PLMS index night by night, with the diary tags",
        "nl": "Inslaapschokken en PLMS-index per nacht, met de labels uit het dagboek",
    },
    "plot_trends_caption": {
        "en": "Top: sleep starts around falling asleep. Middle: PLMS index, with the adult "
        "threshold as a dashed line. Bottom: the diary tags of each night.",
        "nl": "Boven: inslaapschokken rond het inslapen. Midden: PLMS-index, met de grens voor "
        "volwassenen als stippellijn. Onder: de labels uit het dagboek per nacht.",
    },
    "ax_night": {"en": "night (evening date)", "nl": "nacht (datum van de avond)"},
    "ax_night_order": {"en": "night (order given)", "nl": "nacht (opgegeven volgorde)"},
    "ax_jerks": {"en": "sleep starts", "nl": "inslaapschokken"},
    "ax_plmsi": {"en": "PLMS index (/h)", "nl": "PLMS-index (/u)"},
    "trends_footer": {
        "en": "Made with hypnic {version}. These pages inform; they do not diagnose.",
        "nl": "Gemaakt met hypnic {version}. Deze pagina's informeren; ze stellen geen diagnose.",
    },
}


#: The detector's reasons (``sleep_onset_reason``, ``plms_index_reason``): summary.json keeps them
#: in English; the page shows them in its language (an unknown reason is shown as written).
REASONS: dict[str, dict[str, str]] = {
    "the recording is too short to find sleep": {
        "nl": "de opname is te kort om er slaap in te vinden",
    },
    "no worn, recorded time to look for sleep in": {
        "nl": "er is geen gedragen, opgenomen tijd om slaap in te zoeken",
    },
    "no sustained quiet period of at least 30 minutes (no sleep found)": {
        "nl": "geen aaneengesloten rustige periode van minstens 30 minuten (geen slaap gevonden)",
    },
    "wrist sensor: leg movements need an ankle sensor": {
        "nl": "sensor aan de pols: voor beenbewegingen is een sensor aan de enkel nodig",
    },
    "no recorded, worn time in the sleep period": {
        "nl": "geen opgenomen, gedragen tijd in de slaapperiode",
    },
    "placement unknown: scored as if the sensor were on an ankle": {
        "nl": "plaats onbekend: gescoord alsof de sensor aan een enkel zat",
    },
    "no sleep period found": {"nl": "geen slaapperiode gevonden"},
    "wrist sensors only: leg movements need an ankle sensor": {
        "nl": "alleen sensoren aan de pols: voor beenbewegingen is een sensor aan de enkel nodig",
    },
    "no recorded, worn time at an ankle in the sleep period": {
        "nl": "geen opgenomen, gedragen tijd aan een enkel in de slaapperiode",
    },
}


def reason_text(reason: str, lang: str) -> str:
    """A detector reason in ``lang`` (as written when it has no translation, or in English)."""
    return REASONS.get(reason, {}).get(lang, reason)


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def placeholders(key: str) -> set[str]:
    """The ``{names}`` a text takes (the same in every language)."""
    return _fields(TEXTS[key]["en"])


def plain(key: str, lang: str) -> str:
    """The text of ``key`` as a plain string (plot labels; texts without placeholders)."""
    return TEXTS[key][lang]


def text(key: str, lang: str, **values: Any) -> Markup:
    """The text of ``key`` in ``lang`` as HTML, with ``{names}`` filled in.

    The template's own words are escaped; each value is escaped unless it is already
    :class:`~hypnic.report.markup.Markup` (a tagged number, for instance).

    Raises
    ------
    KeyError
        For an unknown key or language, or a missing placeholder value.
    """
    template = TEXTS[key][lang]
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(esc(literal))
        if field:
            out.append(esc(values[field]))
    return Markup("".join(out))
