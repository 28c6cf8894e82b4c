"""Parameters of the synthetic-night generator, with the literature each default rests on.

Four sets exist. :func:`default_params` follows the published numbers in DOMAIN.md as closely as
they go; :func:`robust_params` is a deliberately different, still physiological set (other
amplitudes, durations, rates, posture habits, sensor noise and jerk shapes). A detector tuned on
the defaults is checked on the robust set to see that it was not fitted to one generator;
:func:`alt_params` is a third set and :func:`holdout_params` a fourth, never used to choose.

Variants apply to any set: :func:`with_removals` (5-120 min removals where people take a sensor
off, with the awakenings they need), :func:`coarse_sensor` (3.9 mg steps, little noise) and
:func:`quiet_sleeper`. Every set also describes the skin temperature at the sensor and the
sensor's thermometer (DETACH's rates off and back on the skin, the distal warming of sleep).

Ranges are ``(low, high)`` tuples in the unit the field name says. Where no source gives a
number (accelerometer amplitudes of jerks and leg movements, DOMAIN §1.2 and §5.2), the value is
an assumption and says so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

Range = tuple[float, float]


@dataclass(frozen=True)
class SynthParams:
    """Every tunable number of the synthetic night.

    Attributes are grouped by what they drive; see the comments in :func:`default_params` for
    the source of each default. ``name`` is written into the truth file.
    """

    name: str

    # Sleep structure (minutes unless the name says otherwise).
    onset_min: Range
    long_wake_start_p: float
    long_onset_min: Range
    final_wake_min: Range
    wake_bouts_per_h: float
    wake_bout_min: Range
    cycle_min: Range
    rem_min: Range  # first cycle's REM, last cycle's REM

    # Hypnic jerks.
    jerk_count_p: tuple[float, ...]  # probability of 1, 2, 3, 4 ... jerks in a night
    jerk_window_s: Range  # around sleep onset
    jerk_late_p: float
    jerk_amp_g: Range  # log-uniform, assumed (DOMAIN §1.2: no published value)
    jerk_emg_s: Range
    jerk_osc_hz: Range
    jerk_osc_s: Range
    jerk_ring_rel: Range  # ringing amplitude relative to the main pulse
    jerk_limb_gain: Range
    jerk_limb_delay_s: Range
    jerk_arousal_p: float
    jerk_arousal_delay_s: Range

    # Periodic and isolated leg movements.
    plm_night_p: float
    plm_index_per_h: Range  # log-uniform
    plm_series_len: Range  # log-uniform
    plm_imi_rls_p: float
    plm_imi_rls_s: Range
    plm_imi_other_s: Range
    plm_imi_jitter: float  # sigma of log(IMI / series median)
    plm_start_beta: tuple[float, float]  # position of a series' start in the sleep period
    lm_dur_median_s: float
    lm_dur_sigma: float
    lm_dur_s: Range  # hard limits
    lm_amp_g: Range  # log-uniform, assumed (DOMAIN §5.2: no published value)
    lm_band_hz: Range
    lm_tilt_deg: Range
    lm_invisible_frac: Range  # per night
    lm_bilateral_p: float
    lm_dominant_side_p: float
    lm_isolated_per_h: Range

    # Large movements (turning over) and posture.
    turn_per_h: Range
    turn_wake_factor: float
    turn_dur_median_s: float
    turn_dur_sigma: float
    turn_dur_s: Range
    turn_amp_g: Range
    turn_band_hz: Range
    posture_habits: tuple[float, float, float, float]  # supine, left side, right side, prone
    posture_jitter_deg: tuple[float, float]  # wrist, ankle
    posture_min_change_deg: float

    # Distractors.
    foot_tremor_night_p: float
    foot_tremor_series: tuple[int, int]
    foot_tremor_window_s: Range  # around sleep onset
    foot_tremor_dur_s: Range
    foot_tremor_long_p: float
    foot_tremor_long_s: Range
    foot_tremor_hz: Range
    foot_tremor_burst_s: Range
    foot_tremor_amp_g: Range
    tremor_night_p: float
    tremor_episodes: tuple[int, int]
    tremor_dur_s: Range
    tremor_hz: Range
    tremor_amp_g: Range
    twitch_per_h: Range
    twitch_rem_factor: float
    twitch_dur_s: Range
    twitch_amp_g: Range
    knocks: tuple[int, int]
    knock_dur_s: Range
    knock_amp_g: Range
    knock_hz: Range
    fidget_per_h: Range
    fidget_dur_s: Range
    fidget_amp_g: Range
    fidget_band_hz: Range
    fidget_tilt_deg: Range

    # Breathing and cardiac micro-motion (wrist values; ankles get ``micro_ankle_gain``).
    breath_hz: Range
    breath_amp_mg: Range
    cardiac_hz: Range
    cardiac_amp_mg: Range
    micro_ankle_gain: float

    # Sensor.
    noise_density_ug: Range
    range_g: float
    lsb_g: float

    # Missing data and non-wear.
    gap_count: tuple[int, int]
    gap_s: Range  # log-uniform
    nonwear_min: Range
    nonwear_where_p: tuple[float, float, float]  # start, middle, end
    handling_s: float
    handling_amp_g: Range

    # Removals of the sensor (``nonwear_model == "removals"``; see :func:`default_params`).
    nonwear_model: str  # "nightstand" (one span anywhere, the first benchmark's) or "removals"
    removal_min: Range  # log-uniform
    removal_count_p: tuple[float, ...]  # probability of 1, 2, 3 ... removals in a night
    removal_where_p: tuple[float, float, float, float]  # start, evening, in the night, end
    removal_awake_min: Range  # awake before taking the sensor off and after putting it on
    removal_tilt_deg: float  # the nightstand's slope; the device lies on any of its faces

    # Skin temperature at the sensor and the sensor's thermometer.
    temp_room_c: Range
    temp_worn_c: Range  # wrist sensor on the skin, awake in the evening
    temp_ankle_offset_c: Range  # ankle sensors relative to the wrist
    temp_sleep_rise_c: Range  # distal warming around sleep onset
    temp_rise_lead_min: Range  # midpoint of the rise before sleep onset
    temp_rise_width_min: Range  # its 10-90 % rise time
    temp_fall_tau_min: Range  # cooling after the final awakening
    temp_wander_c: Range  # s.d. of the slow wander while worn
    temp_wander_tau_min: Range  # its correlation time
    temp_off_rate: tuple[float, float]  # mean, s.d. (degC/min) over the first 5 min off the skin
    temp_on_rate: tuple[float, float]  # mean, s.d. (degC/min) over the first 5 min after donning
    temp_rate_limits: Range  # the normal draws of both rates are truncated to this range
    temp_block_samples: int  # accelerometer samples per temperature reading
    temp_lsb_c: float
    temp_noise_c: float  # white noise of the thermometer before quantisation

    def replace(self, **changes: object) -> SynthParams:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


def default_params() -> SynthParams:
    """Parameters that follow DOMAIN.md; see the comment on each line for its source."""
    return SynthParams(
        name="default",
        # Sleep onset 10-60 min for most, sometimes a long wake start up to 2 h: brief H1; HDCZA
        # and wrist algorithms err by 3-28 min (DOMAIN §4.2), so onsets are spread over that range.
        onset_min=(10.0, 60.0),
        long_wake_start_p=0.12,
        long_onset_min=(60.0, 120.0),
        final_wake_min=(3.0, 25.0),
        # A few brief awakenings a night; assumed (not in DOMAIN).
        wake_bouts_per_h=0.4,
        wake_bout_min=(1.0, 8.0),
        # NREM-REM cycle ~90 min, REM growing over the night; textbook values, assumed here.
        cycle_min=(80.0, 110.0),
        rem_min=(5.0, 30.0),
        # 1-4 a night, "usually felt once or twice per night" (DOMAIN §1.2, wikidoc [S]).
        jerk_count_p=(0.4, 0.3, 0.2, 0.1),
        # Wake -> N1 transition (DOMAIN §1.2, healthjade [S]); "randomly throughout the night" in
        # patients (PMID 28007358), hence a late share.
        jerk_window_s=(-300.0, 900.0),
        jerk_late_p=0.15,
        # ASSUMED: no accelerometer amplitude of hypnic jerks is published (DOMAIN §1.2, §7).
        jerk_amp_g=(0.15, 1.5),
        # EMG 75-250 ms (DOMAIN §1.2, ICSD-2 via memim [S]).
        jerk_emg_s=(0.075, 0.25),
        # Limb mechanics: damped 5-15 Hz ringing for 0.1-0.3 s (brief H1; assumed).
        jerk_osc_hz=(5.0, 15.0),
        jerk_osc_s=(0.1, 0.3),
        jerk_ring_rel=(0.3, 0.8),
        # Asymmetric, "without any ordered propagation" (PMID 28007358): per-limb gains and
        # delays; delays <= 15 ms keep two sensors within 20 ms of each other.
        jerk_limb_gain=(0.4, 1.0),
        jerk_limb_delay_s=(0.0, 0.015),
        # "may be followed by arousal" (DOMAIN §1.2): an arousal turn-over 0.5-3 s later.
        jerk_arousal_p=0.25,
        jerk_arousal_delay_s=(0.5, 3.0),
        # Many nights without PLMS; 36/100 healthy >5/h, 18 >15/h, P90 24.8/h (Frauscher 2014,
        # DOMAIN §2.3); RLS nights up to ~60/h (DOMAIN §2.3 multi-night, up to 73.8/h).
        plm_night_p=0.5,
        plm_index_per_h=(5.0, 60.0),
        # WASM 2016: >= 4 CLMs a series (DOMAIN §2.1); long RLS series up to ~150 (brief H1).
        plm_series_len=(4.0, 150.0),
        # RLS IMI peak 15-30 s, extending 10-90 s (Ferri 2006, DOMAIN §2.3); WASM IMI 10-90 s.
        plm_imi_rls_p=0.8,
        plm_imi_rls_s=(15.0, 30.0),
        plm_imi_other_s=(30.0, 60.0),
        plm_imi_jitter=0.15,
        # "particularly the first 4 h" (DOMAIN §0, droracle [S]): series start early.
        plm_start_beta=(1.2, 2.6),
        # LM 0.5-10 s (WASM CLM, DOMAIN §2.1), mean 3.2 s in RLS (PMC4434558, DOMAIN §2.3).
        lm_dur_median_s=2.9,
        lm_dur_sigma=0.45,
        lm_dur_s=(0.6, 9.5),
        # ASSUMED (DOMAIN §5.2: no published g amplitude): ankle linear acceleration 0.03-0.4 g.
        lm_amp_g=(0.03, 0.4),
        lm_band_hz=(1.0, 10.0),
        # Ankle dorsiflexion tilts the shank a few to ~20 degrees (brief H1; assumed).
        lm_tilt_deg=(3.0, 20.0),
        # Terrill 2013: 39 % (4.8-69.6 %) of EMG-scored LMs without toe movement (DOMAIN §3.1);
        # the shank moves more than the toe, so fewer are invisible at the ankle (assumed).
        lm_invisible_frac=(0.05, 0.4),
        lm_bilateral_p=0.3,
        lm_dominant_side_p=0.8,
        lm_isolated_per_h=(0.5, 4.0),
        # Healthy LMM index median 6.8/h, IQR 4.5-10.8 (DOMAIN §1.3, normative values).
        turn_per_h=(4.5, 10.8),
        turn_wake_factor=1.5,
        # IRLSSG 3-45 s, healthy median 12.4 s (DOMAIN §1.3).
        turn_dur_median_s=12.4,
        turn_dur_sigma=0.45,
        turn_dur_s=(3.0, 45.0),
        turn_amp_g=(0.05, 0.5),
        turn_band_hz=(0.3, 5.0),
        # Habitual postures: supine and side-lying dominate (assumed).
        posture_habits=(0.45, 0.25, 0.2, 0.1),
        posture_jitter_deg=(40.0, 20.0),
        posture_min_change_deg=20.0,
        # HFT: 7.5 % of sleepers, series 10-15 s, bursts 300-700 ms at 1-2/s (Wetter 2001); HFLM
        # 0.3-4 Hz, mean 1.6 Hz, episodes 1.5 s-6 min (Yang & Winkelman 2010); DOMAIN §1.3.
        # Made more common than in the population so the benchmark sees it often.
        foot_tremor_night_p=0.3,
        foot_tremor_series=(1, 3),
        foot_tremor_window_s=(-600.0, 300.0),
        foot_tremor_dur_s=(10.0, 15.0),
        foot_tremor_long_p=0.2,
        foot_tremor_long_s=(15.0, 60.0),
        foot_tremor_hz=(0.3, 4.0),
        foot_tremor_burst_s=(0.3, 0.7),
        foot_tremor_amp_g=(0.02, 0.15),
        # Physiological 8-12 Hz, essential 4-12 Hz (PMC6806079, DOMAIN §5.2).
        tremor_night_p=0.2,
        tremor_episodes=(1, 5),
        tremor_dur_s=(2.0, 20.0),
        tremor_hz=(4.0, 12.0),
        tremor_amp_g=(0.01, 0.1),
        # Fragmentary myoclonus <= 150 ms, median 25/h, more in REM (Frauscher 2014, DOMAIN
        # §1.3); most are invisible, so only a visible fraction is generated (assumed rate).
        twitch_per_h=(5.0, 30.0),
        twitch_rem_factor=3.0,
        twitch_dur_s=(0.03, 0.15),
        twitch_amp_g=(0.01, 0.08),
        # Sensor knocks: 5-20 ms impulse, high amplitude, high frequency (brief H1; assumed).
        knocks=(0, 3),
        knock_dur_s=(0.005, 0.02),
        knock_amp_g=(0.5, 4.0),
        knock_hz=(100.0, 400.0),
        # Fidgeting in quiet wake (brief H1; assumed rates and amplitudes).
        fidget_per_h=(20.0, 60.0),
        fidget_dur_s=(0.5, 5.0),
        fidget_amp_g=(0.02, 0.2),
        fidget_band_hz=(0.5, 6.0),
        fidget_tilt_deg=(0.0, 10.0),
        # Breathing 0.2-0.33 Hz ~1-3 mg, cardiac 0.8-1.3 Hz ~0.5-2 mg (brief H1; BCG at the wrist
        # is measurable, DOMAIN §5.2). The ankle moves less with breath and pulse (assumed).
        breath_hz=(0.2, 0.33),
        breath_amp_mg=(1.0, 3.0),
        cardiac_hz=(0.8, 1.3),
        cardiac_amp_mg=(0.5, 2.0),
        micro_ankle_gain=0.4,
        # LIS2DW12 90 ug/sqrt(Hz) to ADXL345 290 ug/sqrt(Hz) (DOMAIN §5.1).
        noise_density_ug=(90.0, 300.0),
        # 16 bit at +-8 g (LIS2DW12 range +-2..16 g, DOMAIN §5.1).
        range_g=8.0,
        lsb_g=16.0 / 65536.0,
        # BLE drop-outs and device gaps (brief H1; assumed).
        gap_count=(2, 6),
        gap_s=(2.0, 120.0),
        nonwear_min=(10.0, 40.0),
        nonwear_where_p=(0.4, 0.3, 0.3),
        handling_s=3.0,
        handling_amp_g=(0.1, 0.4),
        # Removals ("removals" model, the non-wear conditions of the benchmark): where people take
        # a sensor off: before falling asleep (also put on only after the recording started),
        # inside an awakening (awake a few minutes before and after: the timeline makes that bout
        # wake) and after the final awakening. DETACH's 186 removals were 85.5 % < 60 min (Vert
        # et al. 2022, BMC Med Res Methodol 22:147); 5-120 min log-uniform spans that range and
        # starts at the shortest span a detector is asked to find. Layout rates are assumed.
        nonwear_model="nightstand",
        removal_min=(5.0, 120.0),
        removal_count_p=(0.6, 0.3, 0.1),
        removal_where_p=(0.2, 0.1, 0.4, 0.3),
        removal_awake_min=(2.0, 8.0),
        # A nightstand is level within a few degrees (assumed); the device lies on any face.
        removal_tilt_deg=3.0,
        # Bedroom 16-24 degC (brief). A wrist sensor on the skin reads a little below skin
        # temperature; DETACH's worn/non-wear cut-offs are 30 and 26 degC (nimbaldetach defaults),
        # so worn readings mostly sit around and above 30 (range assumed).
        temp_room_c=(16.0, 24.0),
        temp_worn_c=(29.0, 32.0),
        temp_ankle_offset_c=(-1.5, 0.5),  # ASSUMED: the ankle about as warm as the wrist, or cooler
        # Distal skin warms by roughly 1-2 degC around lights-off and sleep onset, stays high
        # through sleep and falls after waking (Kräuchi et al., distal vasodilation); its timing
        # and time constants are ASSUMED (no number in DOMAIN.md).
        temp_sleep_rise_c=(1.0, 2.0),
        temp_rise_lead_min=(0.0, 30.0),
        temp_rise_width_min=(20.0, 60.0),
        temp_fall_tau_min=(10.0, 30.0),
        temp_wander_c=(0.1, 0.3),  # ASSUMED: slow wander of a worn sensor
        temp_wander_tau_min=(15.0, 45.0),
        # DETACH (GENEActiv wrist, 39 people): -0.40 +- 0.17 degC/min over the first 5 min off
        # the skin, +0.36 +- 0.21 after donning; drawn per removal, truncated (assumed limits).
        temp_off_rate=(0.40, 0.17),
        temp_on_rate=(0.36, 0.21),
        temp_rate_limits=(0.08, 1.0),
        # Axivity AX3: one reading per data block (120 packed samples, ~1 s at 100 Hz), MCP9700
        # through a 10-bit ADC: 75/256 = 0.29 degC a step (cwa.h, recordings/devices/axivity.py).
        temp_block_samples=120,
        temp_lsb_c=75.0 / 256.0,
        temp_noise_c=0.03,  # ASSUMED
    )


def robust_params() -> SynthParams:
    """A second, deliberately different parameter set, still within physiology.

    Differences from :func:`default_params`: later and more variable sleep onsets, jerks with
    longer EMG bursts, slower ringing and a wider amplitude range, more jerks late in the night,
    shorter and weaker leg movements with smaller tilts, IMIs spread over 12-45 s, more
    invisible LMs, fewer but shorter turn-overs with side-lying habits, a noisier 14-bit sensor,
    more twitches and tremor.
    """
    return default_params().replace(
        name="robust",
        onset_min=(5.0, 75.0),
        long_wake_start_p=0.2,
        jerk_count_p=(0.5, 0.25, 0.15, 0.1),
        jerk_window_s=(-420.0, 1200.0),
        jerk_late_p=0.3,
        jerk_amp_g=(0.1, 2.0),
        jerk_emg_s=(0.1, 0.25),
        jerk_osc_hz=(4.0, 11.0),
        jerk_osc_s=(0.15, 0.35),
        jerk_ring_rel=(0.5, 1.0),
        jerk_limb_gain=(0.3, 1.0),
        jerk_arousal_p=0.4,
        plm_night_p=0.6,
        plm_index_per_h=(3.0, 70.0),
        plm_imi_rls_p=0.6,
        plm_imi_rls_s=(12.0, 25.0),
        plm_imi_other_s=(25.0, 45.0),
        plm_imi_jitter=0.2,
        plm_start_beta=(1.0, 1.6),
        lm_dur_median_s=2.0,
        lm_dur_sigma=0.6,
        lm_amp_g=(0.02, 0.3),
        lm_band_hz=(0.8, 8.0),
        lm_tilt_deg=(2.0, 15.0),
        lm_invisible_frac=(0.1, 0.55),
        lm_bilateral_p=0.45,
        lm_isolated_per_h=(1.0, 6.0),
        turn_per_h=(2.0, 9.0),
        turn_dur_median_s=7.0,
        turn_dur_sigma=0.6,
        turn_amp_g=(0.03, 0.35),
        turn_band_hz=(0.2, 4.0),
        posture_habits=(0.2, 0.35, 0.35, 0.1),
        posture_jitter_deg=(50.0, 25.0),
        foot_tremor_night_p=0.45,
        foot_tremor_amp_g=(0.01, 0.1),
        tremor_night_p=0.35,
        tremor_amp_g=(0.005, 0.15),
        twitch_per_h=(10.0, 50.0),
        twitch_amp_g=(0.008, 0.1),
        knocks=(0, 5),
        fidget_per_h=(10.0, 80.0),
        breath_amp_mg=(0.7, 4.0),
        cardiac_amp_mg=(0.3, 2.5),
        micro_ankle_gain=0.25,
        # ADXL345 z axis 430 ug/sqrt(Hz) is the noisiest part in DOMAIN §5.1.
        noise_density_ug=(150.0, 430.0),
        lsb_g=16.0 / 16384.0,  # 14 bit at +-8 g
        # More removals in the night, longer awake times around them (assumed).
        removal_where_p=(0.15, 0.15, 0.45, 0.25),
        removal_awake_min=(1.5, 10.0),
        # GENEActiv-like thermometer: one reading per 300-sample page, 0.1 degC steps (brief);
        # a cooler-running sensor, a rise that may start after onset, more wander (assumed).
        temp_worn_c=(28.0, 31.5),
        temp_ankle_offset_c=(-2.0, 0.0),
        temp_sleep_rise_c=(0.8, 2.2),
        temp_rise_lead_min=(-10.0, 40.0),
        temp_rise_width_min=(30.0, 80.0),
        temp_fall_tau_min=(5.0, 25.0),
        temp_wander_c=(0.15, 0.4),
        temp_wander_tau_min=(10.0, 40.0),
        temp_block_samples=300,
        temp_lsb_c=0.1,
        temp_noise_c=0.05,
    )


def alt_params() -> SynthParams:
    """A third parameter set (session 2), for checking choices between classifier variants.

    Differs from both others: more and longer awakenings (0.8/h, 2-12 min), jerks from 10 min
    before to 12 min after onset with a lower amplitude floor (0.08 g) and less ringing, longer
    and stronger leg movements, longer turn-overs, more and smaller twitches, restless wake
    (30-90 fidgets/h), a quieter sensor. It was used to choose between alternatives (which
    features, which search range), never to fit weights; a truly unseen check needs a new set.
    """
    return default_params().replace(
        name="alt",
        onset_min=(8.0, 50.0), long_wake_start_p=0.15, long_onset_min=(50.0, 150.0),
        wake_bouts_per_h=0.8, wake_bout_min=(2.0, 12.0),
        jerk_count_p=(0.3, 0.3, 0.25, 0.15), jerk_window_s=(-600.0, 700.0), jerk_late_p=0.2,
        jerk_amp_g=(0.08, 1.0), jerk_emg_s=(0.09, 0.22), jerk_osc_hz=(6.0, 12.0),
        jerk_osc_s=(0.08, 0.25), jerk_ring_rel=(0.2, 0.7), jerk_limb_gain=(0.5, 1.0),
        plm_night_p=0.45, plm_index_per_h=(8.0, 50.0), plm_imi_rls_s=(18.0, 35.0),
        plm_imi_jitter=0.12,
        lm_dur_median_s=3.6, lm_dur_sigma=0.4, lm_amp_g=(0.05, 0.5), lm_tilt_deg=(4.0, 25.0),
        lm_isolated_per_h=(0.3, 3.0),
        turn_per_h=(5.0, 14.0), turn_dur_median_s=15.0, turn_amp_g=(0.08, 0.6),
        twitch_per_h=(15.0, 40.0), twitch_amp_g=(0.01, 0.06), twitch_dur_s=(0.04, 0.12),
        fidget_per_h=(30.0, 90.0), fidget_amp_g=(0.03, 0.25), fidget_dur_s=(0.6, 6.0),
        noise_density_ug=(100.0, 250.0),
        removal_where_p=(0.25, 0.1, 0.35, 0.3),
        # AX3 unpacked blocks (80 samples); a 0.25 degC thermometer (assumed); a warmer sensor.
        temp_worn_c=(29.5, 33.0),
        temp_sleep_rise_c=(1.2, 2.0),
        temp_rise_lead_min=(5.0, 35.0),
        temp_wander_c=(0.1, 0.25),
        temp_block_samples=80,
        temp_lsb_c=0.25,
        temp_noise_c=0.04,
    )


def holdout_params() -> SynthParams:
    """A fourth parameter set (session 3), written before it was first run and never used to
    choose anything: the only truly unseen check in ``hypnic bench accuracy``.

    Differs from the others: a 12-bit ±4 g sensor (2 mg steps) with 110-350 µg/√Hz; jerks with
    80-200 ms EMG, 6-14 Hz ringing and amplitudes 0.12-1.2 g within 4 min before to 10 min after
    onset (20 % later); leg movements of median 2.5 s at 0.025-0.35 g with 2.5-18° tilts; turn-overs
    of median 10 s, 3.5-12/h; 8-40 twitches/h; 15-70 fidgets/h with tilts up to 12°; 0.6 brief
    awakenings/h of 1.5-6 min.
    """
    return default_params().replace(
        name="holdout",
        onset_min=(15.0, 45.0), long_wake_start_p=0.1, long_onset_min=(45.0, 100.0),
        final_wake_min=(5.0, 20.0), wake_bouts_per_h=0.6, wake_bout_min=(1.5, 6.0),
        cycle_min=(85.0, 100.0),
        jerk_count_p=(0.35, 0.35, 0.2, 0.1), jerk_window_s=(-240.0, 600.0), jerk_late_p=0.2,
        jerk_amp_g=(0.12, 1.2), jerk_emg_s=(0.08, 0.2), jerk_osc_hz=(6.0, 14.0),
        jerk_osc_s=(0.12, 0.28), jerk_ring_rel=(0.4, 0.9), jerk_limb_gain=(0.35, 1.0),
        jerk_arousal_p=0.3,
        plm_night_p=0.55, plm_index_per_h=(6.0, 45.0), plm_imi_rls_s=(14.0, 28.0),
        plm_imi_other_s=(28.0, 55.0), plm_imi_jitter=0.18, plm_start_beta=(1.1, 2.0),
        lm_dur_median_s=2.5, lm_dur_sigma=0.5, lm_amp_g=(0.025, 0.35), lm_band_hz=(0.9, 9.0),
        lm_tilt_deg=(2.5, 18.0), lm_invisible_frac=(0.05, 0.45), lm_bilateral_p=0.35,
        lm_isolated_per_h=(0.8, 5.0),
        turn_per_h=(3.5, 12.0), turn_dur_median_s=10.0, turn_dur_sigma=0.5,
        turn_amp_g=(0.04, 0.45), turn_band_hz=(0.25, 4.5),
        posture_habits=(0.35, 0.3, 0.25, 0.1), posture_jitter_deg=(45.0, 22.0),
        foot_tremor_night_p=0.35, foot_tremor_amp_g=(0.015, 0.12),
        tremor_night_p=0.25, tremor_amp_g=(0.008, 0.12),
        twitch_per_h=(8.0, 40.0), twitch_amp_g=(0.01, 0.09), twitch_dur_s=(0.035, 0.14),
        knocks=(0, 4),
        fidget_per_h=(15.0, 70.0), fidget_amp_g=(0.02, 0.22), fidget_dur_s=(0.5, 5.5),
        fidget_tilt_deg=(0.0, 12.0),
        breath_amp_mg=(0.8, 3.5), cardiac_amp_mg=(0.4, 2.2), micro_ankle_gain=0.3,
        noise_density_ug=(110.0, 350.0), range_g=4.0, lsb_g=8.0 / 4096.0,
        # Removals and temperature (session 4), chosen before any run like the rest of this set:
        # fewer removals before sleep, longer awake around them, a 240-sample reading block,
        # a 0.0625 degC thermometer, a cooler room range and a smaller, later sleep rise.
        removal_count_p=(0.55, 0.35, 0.1), removal_where_p=(0.15, 0.1, 0.4, 0.35),
        removal_awake_min=(3.0, 10.0), removal_tilt_deg=4.0,
        temp_room_c=(17.0, 23.0), temp_worn_c=(28.5, 31.0), temp_ankle_offset_c=(-1.0, 0.8),
        temp_sleep_rise_c=(0.9, 1.8), temp_rise_lead_min=(-5.0, 35.0),
        temp_rise_width_min=(25.0, 70.0), temp_fall_tau_min=(8.0, 20.0),
        temp_wander_c=(0.08, 0.25), temp_wander_tau_min=(20.0, 60.0),
        temp_block_samples=240, temp_lsb_c=0.0625, temp_noise_c=0.02,
    )


def with_removals(p: SynthParams) -> SynthParams:
    """``p`` with the removals model: 5-120 min removals where people take a sensor off.

    The name stays, so the nights are ``p``'s nights, changed only where a removal needs the
    person awake (a longer evening, an awakening in the night, an earlier final awakening).
    """
    return p.replace(nonwear_model="removals")


def coarse_sensor(p: SynthParams) -> SynthParams:
    """``p`` seen by a coarse sensor: 12 bit at ±8 g (3.9 mg steps, like AX3, GENEActiv and
    ActiGraph at ±8 g) with noise at the low end of real parts (45-90 µg/√Hz: between the ADXL355's
    22.5 and the LIS2DW12's 90, DOMAIN §5.1), so the noise hardly dithers the quantiser: at
    12.5 Hz its σ is 0.1-0.2 mg, at 400 Hz 0.6-1.3 mg, against a 3.9 mg step.
    """
    return p.replace(
        name=f"{p.name}+coarse", range_g=8.0, lsb_g=16.0 / 4096.0, noise_density_ug=(45.0, 90.0)
    )


def quiet_sleeper(p: SynthParams) -> SynthParams:
    """``p`` for a quiet sleeper: few turn-overs, fidgets and twitches, little breathing and pulse
    micro-motion (0.5-1.5 mg at the wrist, brief), long still stretches in sleep.

    All ASSUMED as the quiet tail of the defaults: 1-4 turn-overs/h (below the healthy LMM
    index's IQR 4.5-10.8/h, DOMAIN §1.3), 5-20 fidgets/h awake, 1-6 visible twitches/h, fewer
    leg movements, tremors and knocks, fewer brief awakenings.
    """
    return p.replace(
        name=f"{p.name}+quiet",
        wake_bouts_per_h=0.2,
        turn_per_h=(1.0, 4.0),
        fidget_per_h=(5.0, 20.0),
        twitch_per_h=(1.0, 6.0),
        plm_night_p=0.25,
        lm_isolated_per_h=(0.2, 1.5),
        foot_tremor_night_p=0.1,
        tremor_night_p=0.05,
        knocks=(0, 1),
        breath_amp_mg=(0.5, 1.5),
        cardiac_amp_mg=(0.5, 1.5),
    )
