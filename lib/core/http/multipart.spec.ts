import { parseMultipart } from '../../testing/simulator-multipart';
import { buildMultipart } from './multipart';

describe('buildMultipart', () => {
  const meta = JSON.stringify({ filename: '执照.png', sha256: 'ab'.repeat(32) });
  const file = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);

  it('sends the meta string byte for byte as the first part, then the file part', () => {
    const { body, contentType } = buildMultipart({ meta, file, filename: '执照.png', contentType: 'image/png' });
    expect(contentType).toMatch(/^multipart\/form-data; boundary=WechatPayBoundary[0-9a-f]{24}$/);
    const parsed = parseMultipart(contentType, body);
    expect(parsed.parts.map((p) => p.name)).toEqual(['meta', 'file']);
    expect(parsed.part('meta')!.bytes.toString('utf8')).toBe(meta);
    expect(parsed.part('meta')!.contentType).toBe('application/json');
    expect(parsed.part('file')).toMatchObject({ filename: '执照.png', contentType: 'image/png' });
    expect(parsed.part('file')!.bytes.equals(file)).toBe(true);
  });

  it('picks another boundary when the content contains the proposed one', () => {
    const clash = Buffer.from('--WechatPayBoundaryX--');
    const { body, contentType } = buildMultipart({ meta, file: clash, filename: 'a.png', contentType: 'image/png' }, 'WechatPayBoundaryX');
    expect(contentType).not.toContain('boundary=WechatPayBoundaryX;');
    expect(contentType.endsWith('boundary=WechatPayBoundaryX')).toBe(false);
    expect(parseMultipart(contentType, body).part('file')!.bytes.equals(clash)).toBe(true);
  });

  it('refuses a file name or content type that would break the part headers', () => {
    expect(() => buildMultipart({ meta, file, filename: 'a".png', contentType: 'image/png' })).toThrow(/filename/);
    expect(() => buildMultipart({ meta, file, filename: 'a.png', contentType: 'image/png\r\nX-Evil: 1' })).toThrow(/contentType/);
  });
});
