/**
 * What a viewer page says about the camera: camera, lens, exposure and the date taken, read
 * from the EXIF the stored file still carries (`images.exifdata`; null when the file had none
 * or the site strips metadata). Pure, so pages and tests share it.
 */
export interface ExifSummary {
  camera: string | null;
  lens: string | null;
  exposure: string | null;
  /** As the camera wrote it, `YYYY-MM-DDTHH:MM:SS` (local time of the camera, no zone). */
  takenAt: string | null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim().slice(0, 100) : null;
}

function number(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** 0.004 → "1/250 s", 2 → "2 s". */
export function shutterText(seconds: number): string {
  if (seconds >= 1) return `${Math.round(seconds * 10) / 10} s`;
  return `1/${Math.round(1 / seconds)} s`;
}

export function exifSummaryOf(exifJson: string | null): ExifSummary | null {
  if (!exifJson) return null;
  let exif: Record<string, unknown>;
  try {
    exif = JSON.parse(exifJson) as Record<string, unknown>;
  } catch {
    return null;
  }
  const make = text(exif.Make);
  const model = text(exif.Model);
  // "Canon" + "Canon EOS R5" reads "Canon EOS R5", not twice the brand.
  const camera = model && make && !model.toLowerCase().startsWith(make.toLowerCase().split(' ')[0]) ? `${make} ${model}` : model ?? make;
  const lens = text(exif.LensModel) ?? text(exif.Lens);
  const parts: string[] = [];
  const shutter = number(exif.ExposureTime);
  if (shutter) parts.push(shutterText(shutter));
  const aperture = number(exif.FNumber);
  if (aperture) parts.push(`f/${Math.round(aperture * 10) / 10}`);
  const iso = number(exif.ISO) ?? number(exif.ISOSpeedRatings);
  if (iso) parts.push(`ISO ${Math.round(iso)}`);
  const focal = number(exif.FocalLength);
  if (focal) parts.push(`${Math.round(focal)} mm`);
  const taken = text(exif.DateTimeOriginal) ?? text(exif.CreateDate);
  const match = taken ? /^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(taken) : null;
  const summary: ExifSummary = {
    camera,
    lens,
    exposure: parts.length > 0 ? parts.join(' · ') : null,
    takenAt: match ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}` : null,
  };
  return summary.camera || summary.lens || summary.exposure || summary.takenAt ? summary : null;
}
